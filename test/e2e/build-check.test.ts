// `berth build --check` through the built CLI: findings printed BuildKit-style with their lines,
// the exit status, the .dockerignore and context-size inputs. No daemon runs: BERTH_HOST points
// at a socket that does not exist, so any daemon call would fail the command.
import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT, run } from '../helpers/daemon.ts';
import { makeContext } from '../helpers/e2e.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const noDaemon = path.join(os.tmpdir(), `berth-no-daemon-${process.pid}.sock`);

async function check(files: Record<string, string>, extra: string[] = []) {
  const dir = await makeContext(files);
  dirs.push(dir);
  return run(path.join(ROOT, 'bin/berth'), ['build', '--check', ...extra, dir], {
    env: { BERTH_HOST: `unix://${noDaemon}`, DOCKER_HOST: `unix://${noDaemon}` },
    timeoutMs: 30_000,
  });
}

describe('berth build --check', () => {
  test('a clean Dockerfile: "no warnings found", exit 0', async () => {
    const r = await check({ Dockerfile: 'FROM alpine:3.20\nCOPY app /app\nCMD ["/app"]\n', app: 'x' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Check complete, no warnings found.\n');
  });

  test('findings are printed with rule, message and line; warnings alone exit 0', async () => {
    const r = await check({
      Dockerfile: 'FROM alpine:3.20\nRUN true\nCOPY tmp/secret.txt /s\nENTRYPOINT my-program start\n',
      '.dockerignore': 'tmp\n',
      'tmp/secret.txt': 's',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Check complete, 2 warnings have been found!\n/);
    assert.match(
      r.stdout,
      /^WARNING: JSONArgsRecommended - JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals.* \(line 4\)$/m,
    );
    assert.match(
      r.stdout,
      /^WARNING: CopyIgnoredFile - Attempting to Copy file "tmp\/secret\.txt" that is excluded by \.dockerignore.* \(line 3\)$/m,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /connect|ENOENT|daemon/i);
  });

  test('check=error=true fails with exit 1; -f picks another Dockerfile', async () => {
    const r = await check(
      {
        Dockerfile: 'FROM alpine:3.20\nCMD ["x"]\n',
        'other.Dockerfile': '# check=error=true\nFROM alpine:3.20\nMAINTAINER me@example.com\n',
      },
      [],
    );
    assert.equal(r.code, 0, r.stderr);
    const dir = dirs.at(-1)!;
    const f = await run(
      path.join(ROOT, 'bin/berth'),
      ['build', '--check', '-f', path.join(dir, 'other.Dockerfile'), dir],
      { env: { BERTH_HOST: `unix://${noDaemon}` } },
    );
    assert.equal(f.code, 1);
    assert.match(f.stdout, /^WARNING: MaintainerDeprecated - .* \(line 3\)$/m);
    assert.match(f.stderr, /lint violation found for rules: MaintainerDeprecated/);
  });

  test('a syntax error is an error with its line, exit 1', async () => {
    const r = await check({ Dockerfile: 'FROM alpine:3.20\nRUN true\nFROBNICATE now\n' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR: SyntaxError - unknown instruction: FROBNICATE.* \(line 3\)$/m);
  });

  test('- reads the Dockerfile from stdin (and refuses a context archive there)', async () => {
    const env = { BERTH_HOST: `unix://${noDaemon}` };
    const berth = path.join(ROOT, 'bin/berth');
    const r = await run(berth, ['build', '--check', '-'], { env, input: 'FROM alpine:3.20\nCMD echo hi\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^WARNING: JSONArgsRecommended - .* \(line 2\)$/m);
    const header = `${'x'.repeat(257)}ustar\0${'\0'.repeat(250)}`;
    const t = await run(berth, ['build', '--check', '-'], { env, input: header });
    assert.equal(t.code, 125);
    assert.match(t.stderr, /not a context archive/);
  });

  test('a large context without .dockerignore is reported; a missing Dockerfile is a clear error', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-ctx-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'Dockerfile'), 'FROM alpine:3.20\n');
    // A sparse file: its size counts, no disk is used.
    await writeFile(path.join(dir, 'big.bin'), '');
    await truncate(path.join(dir, 'big.bin'), 150 * 1024 * 1024);
    const env = { env: { BERTH_HOST: `unix://${noDaemon}` } };
    const r = await run(path.join(ROOT, 'bin/berth'), ['build', '--check', dir], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^WARNING: LargeContextWithoutDockerignore - The build context holds at least 150 MiB/m,
    );
    await writeFile(path.join(dir, '.dockerignore'), 'big.bin\n');
    const r2 = await run(path.join(ROOT, 'bin/berth'), ['build', '--check', dir], env);
    assert.equal(r2.stdout, 'Check complete, no warnings found.\n');
    const m = await run(path.join(ROOT, 'bin/berth'), ['build', '--check', '-f', 'nope', dir], env);
    assert.equal(m.code, 1);
    assert.match(m.stderr, /nope.*does not exist/);
  });
});
