// Multi-stage builds, the build cache and RUN mounts: COPY --from, --target, independent stages
// overlapping in time, ONBUILD, cache hits and the exact step a changed file invalidates,
// --no-cache, cache mounts reused across builds, secrets never stored, builder prune.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { useContextDirs, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const { ctxDir } = useContextDirs();

/** Step numbers the plain progress marked CACHED. */
function cachedSteps(stderr: string): number[] {
  return [...stderr.matchAll(/^#(\d+) CACHED$/gm)].map((m) => Number(m[1]));
}

describe('multi-stage builds and the cache', () => {
  test('COPY --from a stage and an image, --target, ONBUILD', async () => {
    const dir = await ctxDir({
      Dockerfile: [
        'FROM busybox AS builder',
        'RUN mkdir /out && echo artifact > /out/bin',
        'FROM busybox AS unused',
        'RUN exit 1',
        'FROM scratch AS final',
        'COPY --from=builder /out/bin /app/bin',
        'COPY --from=busybox /bin/busybox /bin/sh',
        'CMD ["/bin/sh", "-c", "cat /app/bin"]',
        '',
      ].join('\n'),
    });
    const r = await daemon.d.berth(['build', '--progress=plain', '-t', 'multi', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'multi'])), 'artifact\n');
    // --target builds only what that stage needs (the failing stage is never run).
    const t = await daemon.d.berth([
      'build',
      '--progress=plain',
      '--target',
      'builder',
      '-t',
      'multi:builder',
      dir,
    ]);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(
      ok(await daemon.d.docker(['run', '--rm', 'multi:builder', 'cat', '/out/bin'])),
      'artifact\n',
    );
    const bad = await daemon.d.berth(['build', '--target', 'nope', dir]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /target stage "nope" could not be found/);
    // ONBUILD triggers run in the child build.
    const parent = await ctxDir({ Dockerfile: 'FROM busybox\nONBUILD RUN echo from-trigger > /trig\n' });
    ok(await daemon.d.berth(['build', '-t', 'onbuild-parent', parent]));
    const child = await ctxDir({ Dockerfile: 'FROM onbuild-parent\nRUN cat /trig\n' });
    ok(await daemon.d.berth(['build', '-t', 'onbuild-child', child]));
    assert.equal(
      ok(await daemon.d.docker(['run', '--rm', 'onbuild-child', 'cat', '/trig'])),
      'from-trigger\n',
    );
    const cfg = JSON.parse(ok(await daemon.d.docker(['image', 'inspect', 'onbuild-child'])))[0].Config;
    assert.ok(!cfg.OnBuild || cfg.OnBuild.length === 0, 'triggers are not inherited');
  });

  test('independent stages build at the same time', async () => {
    const dir = await ctxDir({
      Dockerfile: [
        'FROM busybox AS a',
        'RUN cut -d" " -f1 /proc/uptime > /start && sleep 2 && cut -d" " -f1 /proc/uptime > /end',
        'FROM busybox AS b',
        'RUN cut -d" " -f1 /proc/uptime > /start && sleep 2 && cut -d" " -f1 /proc/uptime > /end',
        'FROM busybox',
        'COPY --from=a /start /a.start',
        'COPY --from=a /end /a.end',
        'COPY --from=b /start /b.start',
        'COPY --from=b /end /b.end',
        '',
      ].join('\n'),
    });
    const r = await daemon.d.berth(['build', '--progress=plain', '-t', 'parallel', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = ok(
      await daemon.d.docker(['run', '--rm', 'parallel', 'cat', '/a.start', '/a.end', '/b.start', '/b.end']),
    );
    const [aStart, aEnd, bStart, bEnd] = out.trim().split('\n').map(Number) as [
      number,
      number,
      number,
      number,
    ];
    assert.ok(
      aStart < bEnd && bStart < aEnd,
      `the two RUN steps overlap: a ${aStart}-${aEnd}, b ${bStart}-${bEnd}`,
    );
  });

  test('a second build is fully cached; a changed file invalidates its COPY and every later step', async () => {
    const dir = await ctxDir({
      Dockerfile:
        'FROM busybox\nRUN echo one > /one\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy\nENV DONE=1\n',
      'a.txt': 'v1\n',
    });
    const first = await daemon.d.berth([
      'build',
      '--progress=plain',
      '--iidfile',
      path.join(dir, '..', `${path.basename(dir)}.iid`),
      '-t',
      'cache:1',
      dir,
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(cachedSteps(first.stderr), []);
    const second = await daemon.d.berth(['build', '--progress=plain', '-t', 'cache:1', dir]);
    assert.deepEqual(cachedSteps(second.stderr), [2, 3, 4, 5]);
    const id1 = await readFile(path.join(dir, '..', `${path.basename(dir)}.iid`), 'utf8');
    await rm(path.join(dir, '..', `${path.basename(dir)}.iid`));
    assert.equal(
      JSON.parse(ok(await daemon.d.docker(['image', 'inspect', 'cache:1'])))[0].Id,
      id1,
      'same image',
    );
    // Touching a file (new mtime, same content) keeps the cache.
    await writeFile(path.join(dir, 'a.txt'), 'v1\n');
    const touched = await daemon.d.berth(['build', '--progress=plain', '-t', 'cache:1', dir]);
    assert.deepEqual(cachedSteps(touched.stderr), [2, 3, 4, 5]);
    await writeFile(path.join(dir, 'a.txt'), 'v2\n');
    const third = await daemon.d.berth(['build', '--progress=plain', '-t', 'cache:2', dir]);
    assert.equal(third.code, 0, third.stderr);
    assert.deepEqual(cachedSteps(third.stderr), [2], 'only the RUN before the COPY is cached');
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'cache:2', 'cat', '/copy'])), 'v2\n');
    const nocache = await daemon.d.berth(['build', '--progress=plain', '--no-cache', dir]);
    assert.deepEqual(cachedSteps(nocache.stderr), []);
    // A build arg used by a RUN is part of its key.
    const argDir = await ctxDir({ Dockerfile: 'FROM busybox\nARG V=1\nRUN echo $V > /v\n' });
    ok(await daemon.d.berth(['build', argDir]));
    const sameArg = await daemon.d.berth(['build', '--progress=plain', argDir]);
    // ARG is a step of its own (Docker's legacy builder): cached even when the value changes.
    assert.deepEqual(cachedSteps(sameArg.stderr), [2, 3]);
    const otherArg = await daemon.d.berth(['build', '--progress=plain', '--build-arg', 'V=2', argDir]);
    assert.deepEqual(cachedSteps(otherArg.stderr), [2]);
  });

  test('the cache survives a daemon restart; builder prune empties it', async () => {
    const dir = await ctxDir({ Dockerfile: 'FROM busybox\nRUN echo persisted > /p\n' });
    ok(await daemon.d.berth(['build', dir]));
    daemon.d = await daemon.d.restart();
    const again = await daemon.d.berth(['build', '--progress=plain', dir]);
    assert.deepEqual(cachedSteps(again.stderr), [2]);
    const prune = await daemon.d.docker(['builder', 'prune', '-af'], { env: { DOCKER_BUILDKIT: '0' } });
    const pruneOut = prune.code === 0 ? prune.stdout : ok(await daemon.d.berth(['builder', 'prune', '-af']));
    assert.match(pruneOut, /Total reclaimed space/);
    const after = await daemon.d.berth(['build', '--progress=plain', dir]);
    assert.deepEqual(cachedSteps(after.stderr), []);
  });

  test('RUN --mount=type=cache persists across builds; secrets are never stored', async () => {
    const dir = await ctxDir({
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=cache,target=/cache echo x >> /cache/log && wc -l < /cache/log > /count',
        'RUN --mount=type=secret,id=token cat /run/secrets/token > /dev/null && echo used > /used',
        'RUN --mount=type=secret,id=token,target=/tok wc -c < /tok > /toklen',
        '',
      ].join('\n'),
      'token.txt': 'TOPSECRET-123\n',
    });
    const secret = `id=token,src=${path.join(dir, 'token.txt')}`;
    // The secret file is in the context dir here only for convenience; .dockerignore it.
    await writeFile(path.join(dir, '.dockerignore'), 'token.txt\n');
    ok(await daemon.d.berth(['build', '--secret', secret, '-t', 'mounts:1', dir]));
    ok(await daemon.d.berth(['build', '--no-cache', '--secret', secret, '-t', 'mounts:2', dir]));
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'mounts:1', 'cat', '/count'])).trim(), '1');
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'mounts:2', 'cat', '/count'])).trim(), '2');
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'mounts:2', 'cat', '/toklen'])).trim(), '14');
    // Neither a layer nor the history holds the secret.
    const saved = await daemon.d.request('GET', '/images/mounts:2/get');
    assert.equal(saved.status, 200);
    assert.ok(!saved.body.includes('TOPSECRET'), 'secret content absent from the saved image');
    const ls = ok(
      await daemon.d.docker([
        'run',
        '--rm',
        'mounts:2',
        'sh',
        '-c',
        'ls -a /run/secrets 2>/dev/null; ls /tok 2>&1 || true',
      ]),
    );
    assert.doesNotMatch(ls, /token/);
    // Without --secret the optional mount is left out, so the command reading it fails.
    const missing = await daemon.d.berth(['build', '--no-cache', dir]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /non-zero code/);
  });
});
