// berth completion: the bash script, sourced in a real bash, completes commands, flags and
// container / image names from the daemon through `berth __complete`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const BERTH = path.resolve('bin/berth');

/** COMPREPLY of the bash script for `berth WORDS…` (the last word is the one being typed). */
async function bashComplete(script: string, words: string[]): Promise<string[]> {
  const line = ['berth', ...words].map((w) => `'${w}'`).join(' ');
  const prog = `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=${words.length}; _berth_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await promisify(execFile)('bash', ['-c', prog], {
    env: { ...process.env, PATH: `${path.dirname(BERTH)}:${process.env.PATH}`, BERTH_HOST: daemon.d.host },
    timeout: 20_000,
  });
  return stdout.split('\n').filter(Boolean);
}

describe('berth completion', () => {
  test('bash completes commands, flags and names from the daemon', async () => {
    const script = ok(await daemon.d.berth(['completion', 'bash']));
    ok(await daemon.d.berth(['run', '-d', '--name', 'comp-web', 'busybox', 'sleep', '300']));
    ok(await daemon.d.berth(['create', '--name', 'comp-idle', 'busybox', 'true']));
    assert.deepEqual(await bashComplete(script, ['vo']), ['volume']);
    assert.deepEqual(await bashComplete(script, ['ps', '--fi']), ['--filter']);
    assert.deepEqual(await bashComplete(script, ['stop', 'comp-']), ['comp-web']);
    assert.deepEqual(await bashComplete(script, ['container', 'start', 'comp-']), ['comp-idle', 'comp-web']);
    assert.deepEqual(await bashComplete(script, ['run', '--rm', 'busy']), ['busybox:latest']);
    assert.deepEqual(await bashComplete(script, ['context', 'use', 'def']), ['default']);
  });

  test('zsh and fish scripts call __complete; an unknown shell is an error', async () => {
    assert.match(ok(await daemon.d.berth(['completion', 'zsh'])), /^#compdef berth\n[\s\S]*__complete --/);
    assert.match(
      ok(await daemon.d.berth(['completion', 'fish'])),
      /complete -c berth -f -a '\(__berth_complete\)'/,
    );
    const bad = await daemon.d.berth(['completion', 'tcsh']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unsupported shell "tcsh": use bash, zsh or fish/);
  });
});
