// berthd under systemd: the units in contrib/systemd pass `systemd-analyze verify`, and
// berthd serves a listening socket it is handed (`-H fd://`, LISTEN_FDS/LISTEN_PID), as
// systemd's socket activation does. systemd is not PID 1 on the test machines, so a tiny
// wrapper plays its part: it opens the socket, puts it at fd 3, sets LISTEN_FDS=1 and
// LISTEN_PID to its own pid, and execs berthd (same pid).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

const BERTHD = path.join(ROOT, 'dist/berthd.mjs');
// The wrapper finds the test's directory from berthd's --data-root (<dir>/data) and listens on
// <dir>/berth.sock, where the test harness pings.
const WRAPPER = `
import os, socket, sys
args = sys.argv[1:]
sock_path = os.path.join(os.path.dirname(args[args.index('--data-root') + 1]), 'berth.sock')
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sock_path)
os.chmod(sock_path, 0o660)
s.listen(64)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
    s.close()
os.set_inheritable(3, True)
os.environ['LISTEN_FDS'] = '1'
os.environ['LISTEN_PID'] = str(os.getpid())
os.execv(args[0], args)
`;

let work: string;
let wrapper: string;
let d: TestDaemon | undefined;

before(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-systemd-'));
  wrapper = path.join(work, 'activate.py');
  await fsp.writeFile(wrapper, WRAPPER);
});
after(async () => {
  await d?.cleanup();
  await fsp.rm(work, { recursive: true, force: true });
});

describe('systemd', () => {
  test('berthd.service and berthd.socket pass systemd-analyze verify', async (t) => {
    if (!existsSync('/usr/bin/systemd-analyze')) return t.skip('systemd-analyze is not installed');
    const units = path.join(work, 'units');
    await fsp.mkdir(units);
    // verify checks that ExecStart exists: point it at this checkout's berthd.
    const service = await fsp.readFile(path.join(ROOT, 'contrib/systemd/berthd.service'), 'utf8');
    assert.match(service, /^ExecStart=\/usr\/local\/bin\/berthd -H fd:\/\/$/m);
    await fsp.writeFile(
      path.join(units, 'berthd.service'),
      service.replace('/usr/local/bin/berthd', path.join(ROOT, 'dist/berthd.mjs')),
    );
    await fsp.copyFile(path.join(ROOT, 'contrib/systemd/berthd.socket'), path.join(units, 'berthd.socket'));
    // Unit names are looked up in the working directory: run it there.
    const inDir = execFileSync(
      'sh',
      [
        '-c',
        'cd "$1" && systemd-analyze verify berthd.socket berthd.service 2>&1; echo "rc=$?"',
        'sh',
        units,
      ],
      { encoding: 'utf8' },
    );
    // Unknown keys and bad values are only warnings (exit 0): no output at all is the pass.
    assert.equal(inDir, 'rc=0\n');
    for (const key of ['Delegate=yes', 'KillMode=process', 'TasksMax=infinity', 'OOMScoreAdjust=-500']) {
      assert.ok(service.includes(`\n${key}\n`), key);
    }
  });

  test('berthd serves a socket handed over with LISTEN_FDS/LISTEN_PID (-H fd://)', async () => {
    d = await startTestDaemon({ command: ['python3', wrapper, process.execPath, BERTHD], listen: 'fd://' });
    const imported = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']);
    assert.equal(imported.code, 0, imported.stderr);
    const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'activated']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'activated\n');
    // The socket is the wrapper's: berthd neither replaced nor removed it.
    const st = await fsp.stat(d.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    // Helpers berthd starts never see LISTEN_*: a container's monitor has none of it.
    const env = await d.docker(['run', '--rm', 'busybox', 'env']);
    assert.doesNotMatch(env.stdout, /LISTEN_(FDS|PID)/);
    const conmonEnv = await conmonEnviron(d.dir);
    assert.ok(!/LISTEN_(FDS|PID)=/.test(conmonEnv), conmonEnv);
  });

  test('-H fd:// without sockets handed over fails with a clear error', async () => {
    const dir = path.join(work, 'no-fds');
    const r = await run(process.execPath, [
      BERTHD,
      '-H',
      'fd://',
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '--config-file',
      '/dev/null',
    ]).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /no sockets found via socket activation for fd:\/\/: make sure the service was started by systemd/,
    );
    const bad = await run(process.execPath, [
      BERTHD,
      '--validate',
      '-H',
      'fd://x',
      '--config-file',
      '/dev/null',
    ]);
    assert.equal(bad.code, 1);
  });
});

/** The environment of a running conmon started for this test's daemon ('' when none runs). */
async function conmonEnviron(dir: string): Promise<string> {
  // A long-running container, so its monitor is there to look at.
  const r = await d!.docker(['run', '-d', 'busybox', 'sleep', '30']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  try {
    for (const pid of await fsp.readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmd.includes('conmon') && cmd.includes(dir) && cmd.includes(id)) {
        return (await fsp.readFile(`/proc/${pid}/environ`, 'utf8')).replaceAll('\0', '\n');
      }
    }
    assert.fail('no conmon found for the container');
  } finally {
    await d!.docker(['rm', '-f', id]);
  }
}
