// Builds from other clients (docker-py's images.build, dockerode's buildImage) and a daemon
// killed in the middle of a RUN: the next start removes the half-done step's container and
// mounts, and the same build then succeeds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import Docker from 'dockerode';
import { run } from '../helpers/daemon.ts';
import { useContextDirs, ok, until, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const { ctxDir } = useContextDirs();

describe('other build clients and crashes', () => {
  test("docker-py's images.build", async () => {
    const dir = await ctxDir({ Dockerfile: 'FROM busybox\nARG WHO\nRUN echo "py $WHO" > /who\n' });
    const script = [
      'import docker, sys',
      `c = docker.DockerClient(base_url="${daemon.d.host}")`,
      `img, logs = c.images.build(path="${dir}", tag="pybuilt:1", buildargs={"WHO": "docker-py"}, rm=True)`,
      'print(img.id)',
      'print("".join(l.get("stream", "") for l in logs), file=sys.stderr)',
    ].join('\n');
    const r = await run('python3', ['-c', script]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    assert.match(r.stderr, /Step 3\/3 : RUN echo/);
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'pybuilt:1', 'cat', '/who'])), 'py docker-py\n');
  });

  test("dockerode's buildImage", async () => {
    const dir = await ctxDir({ Dockerfile: 'FROM busybox\nCOPY hello /hello\n', hello: 'from dockerode\n' });
    const docker = new Docker({ socketPath: daemon.d.socket });
    const stream = await docker.buildImage(
      { context: dir, src: ['Dockerfile', 'hello'] },
      { t: 'dockerode-built' },
    );
    const events = await new Promise<{ aux?: { ID: string }; error?: string }[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, res: unknown[]) =>
        err ? reject(err) : resolve(res as never),
      ),
    );
    assert.ok(!events.some((e) => e.error), JSON.stringify(events));
    assert.ok(events.some((e) => e.aux?.ID?.startsWith('sha256:')));
    assert.equal(
      ok(await daemon.d.docker(['run', '--rm', 'dockerode-built', 'cat', '/hello'])),
      'from dockerode\n',
    );
  });

  test('kill -9 of berthd during a RUN: the restarted daemon cleans up and the build then works', async () => {
    const dir = await ctxDir({
      Dockerfile: 'FROM busybox\nRUN echo started && sleep 30 && echo done > /x\n',
    });
    const building = daemon.d.berth(['build', '--progress=plain', '-t', 'crashy', dir], {
      timeoutMs: 60_000,
    });
    await until('the RUN container to run', async () => {
      const ps = await daemon.d.docker(['ps', '-q']);
      return ps.stdout.trim() !== '';
    });
    await daemon.d.kill9();
    await building;
    daemon.d = await daemon.d.restart();
    await until(
      'the step container to be gone',
      async () => (await daemon.d.docker(['ps', '-aq'])).stdout.trim() === '',
    );
    const mounts = execFileSync('sh', [
      '-c',
      `grep -c '${daemon.d.dataRoot}/build' /proc/self/mountinfo || true`,
    ])
      .toString()
      .trim();
    assert.equal(mounts, '0', 'no build mounts left');
    const fixed = await ctxDir({ Dockerfile: 'FROM busybox\nRUN echo done > /x\n' });
    ok(await daemon.d.berth(['build', '-t', 'crashy', fixed]));
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'crashy', 'cat', '/x'])), 'done\n');
  });
});
