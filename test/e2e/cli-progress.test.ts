// `berth pull` / `berth push` draw the daemon's progress exactly as the docker CLI 28 does:
// both CLIs pull and push the same image against the same berthd and loopback registry, and
// their outputs must agree byte for byte without a terminal, and on a terminal (a pty from
// util-linux `script`) in the cursor-up/erase/cursor-down frames and the final screen.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH_BIN } from '../helpers/berth-registry.ts';
import { run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

let d: TestDaemon;
let regA: TestRegistry;
let regB: TestRegistry;
let regC: TestRegistry;
let regD: TestRegistry;
let env: Record<string, string>;

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Runs `argv` on a pty `cols` wide; returns what the terminal received. */
async function onTty(argv: string[], cols = 150): Promise<string> {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ok(await run('script', ['-qec', `stty cols ${cols} rows 50; ${quoted}`, '/dev/null'], { env }));
}

/** The screen a terminal shows after `out`: \n, \r, ESC[nA/B and ESC[2K applied. */
function screen(out: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const re = /\x1b\[(\d*)([AB K])|\r|\n|[^\x1b\r\n]+/g;
  for (const m of out.replace(/\r\n/g, '\n').matchAll(re)) {
    const t = m[0];
    if (t === '\n') {
      row++;
      col = 0;
      while (lines.length <= row) lines.push('');
    } else if (t === '\r') col = 0;
    else if (m[2] === 'A') row -= Number(m[1] || 1);
    else if (m[2] === 'B') row += Number(m[1] || 1);
    else if (m[2] === 'K') lines[row] = '';
    else {
      const line = (lines[row] ?? '').padEnd(col, ' ');
      lines[row] = line.slice(0, col) + t + line.slice(col + t.length);
      col += t.length;
    }
  }
  return lines;
}

/** Each redraw as its escape-sequence skeleton; repeated updates of one line collapse. */
function frames(out: string): string[] {
  const shapes = out
    .replace(/\r\n/g, '\n')
    .replace(/(\x1b\[2K\r[0-9a-f]{12}: \w[\w ]*?) [^\r]*\r/g, '$1 …\r')
    .split(/(?=\x1b\[\d+A)|(?<=\x1b\[\d+B)/);
  return shapes.filter((s, i) => s !== shapes[i - 1]);
}

before(async () => {
  [regA, regB, regC, regD] = await Promise.all([
    startRegistry(),
    startRegistry(),
    startRegistry(),
    startRegistry(),
  ]);
  // regA doubles as the docker.io mirror, so a familiar name (`progress:1`) stays on loopback.
  d = await startTestDaemon({ config: { 'registry-mirrors': [`http://${regA.host}`] } });
  env = { DOCKER_HOST: d.host, BERTH_HOST: d.host, DOCKER_CONFIG: path.join(d.dir, 'progress-cfg') };
  ok(await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'local/progress:1']));
  ok(await d.berth(['tag', 'local/progress:1', `${regA.host}/p/app:1`]));
  ok(await d.berth(['tag', 'local/progress:1', `${regB.host}/p/app:1`]));
});
after(async () => {
  await d?.cleanup();
  await Promise.all([regA?.stop(), regB?.stop(), regC?.stop(), regD?.stop()]);
});

describe('progress as the docker CLI draws it', () => {
  test('push without a terminal: the same lines as docker push', async () => {
    const docker = ok(await d.docker(['push', `${regA.host}/p/app:1`]));
    const berth = ok(await d.berth(['push', `${regB.host}/p/app:1`]));
    assert.match(docker, /Pushed/);
    assert.equal(berth.replaceAll(regB.host, 'REG'), docker.replaceAll(regA.host, 'REG'));
    // A quiet push prints the fully qualified reference, the default tag added.
    ok(await d.berth(['tag', 'local/progress:1', `${regA.host}/p/app:latest`]));
    const quiet = ok(await d.berth(['push', '-q', `${regA.host}/p/app`]));
    assert.equal(quiet, ok(await d.docker(['push', '-q', `${regA.host}/p/app`])));
    assert.equal(quiet, `${regA.host}/p/app:latest\n`);
    // With --all-tags the reference stays a bare name, as docker prints it.
    const all = ok(await d.berth(['push', '-a', '-q', `${regA.host}/p/app`]));
    assert.equal(all, ok(await d.docker(['push', '-a', '-q', `${regA.host}/p/app`])));
    assert.equal(all, `${regA.host}/p/app\n`);
    // The mirror's copy for the familiar-name pull below.
    ok(await d.berth(['tag', 'local/progress:1', `${regA.host}/library/progress:1`]));
    ok(await d.berth(['push', '-q', `${regA.host}/library/progress:1`]));
  });

  test('push on a terminal: the same frames and screen as docker push', async () => {
    // Fresh registries, so both pushes upload the layer and draw its progress.
    const [dRef, bRef] = [`${regC.host}/t/x:1`, `${regD.host}/t/x:1`];
    for (const r of [dRef, bRef]) ok(await d.berth(['tag', 'local/progress:1', r]));
    const docker = await onTty(['docker', 'push', dRef]);
    const berth = await onTty([BERTH_BIN, 'push', bRef]);
    ok(await d.berth(['rmi', dRef, bRef]));
    assert.match(docker, /\x1b\[1A\x1b\[2K\r[0-9a-f]{12}: Pushing \[=/);
    const norm = (s: string) => s.replaceAll(regC.host, 'REG').replaceAll(regD.host, 'REG');
    assert.deepEqual(frames(norm(berth)), frames(norm(docker)));
    assert.deepEqual(screen(norm(berth)), screen(norm(docker)));
  });

  test('pull of a familiar name prints the fully qualified reference', async () => {
    const docker = ok(await d.docker(['pull', 'progress:1']));
    ok(await d.berth(['rmi', 'progress:1']));
    const berth = ok(await d.berth(['pull', 'progress:1']));
    assert.equal(berth, docker);
    assert.ok(berth.endsWith('\ndocker.io/library/progress:1\n'), berth);
    ok(await d.berth(['rmi', 'progress:1']));
  });

  test('pull without a terminal: the same lines and the fully qualified reference', async () => {
    const ref = `${regA.host}/p/app`;
    ok(
      await d.berth([
        'rmi',
        `${ref}:1`,
        `${ref}:latest`,
        `${regB.host}/p/app:1`,
        `${regA.host}/library/progress:1`,
        'local/progress:1',
      ]),
    );
    const docker = ok(await d.docker(['pull', ref]));
    ok(await d.berth(['rmi', ref]));
    const berth = ok(await d.berth(['pull', ref]));
    assert.match(docker, /^Using default tag: latest\n[\s\S]*Pull complete\n/);
    assert.equal(berth, docker);
    assert.ok(berth.endsWith(`\n${ref}:latest\n`), berth);
  });

  test('pull on a terminal: the same redraw frames and the same final screen as docker', async () => {
    const ref = `${regA.host}/p/app:1`;
    ok(await d.berth(['rmi', `${regA.host}/p/app:latest`]));
    const docker = await onTty(['docker', 'pull', ref]);
    ok(await d.berth(['rmi', ref]));
    const berth = await onTty([BERTH_BIN, 'pull', ref]);
    assert.match(docker, /\x1b\[1A\x1b\[2K\r/);
    assert.deepEqual(frames(berth), frames(docker));
    assert.deepEqual(screen(berth), screen(docker));
  });
});
