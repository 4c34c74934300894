// Dockerfile builds through the real docker CLI (legacy builder API) and berth: every
// instruction's effect on the image config and filesystem, checked by running the result.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useContextDirs, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const LEGACY = { env: { DOCKER_BUILDKIT: '0' } };
const daemon = useBusyboxDaemon();
const { ctxDir } = useContextDirs();

async function inspect(
  ref: string,
): Promise<{ Id: string; Config: Record<string, unknown>; RootFS: { Layers: string[] } }> {
  return JSON.parse(ok(await daemon.d.docker(['image', 'inspect', ref])))[0];
}

describe('docker build (legacy API) against berthd', () => {
  test('every metadata instruction lands in the image config', async () => {
    const dir = await ctxDir({
      Dockerfile: [
        'FROM busybox',
        'LABEL org.example.a="one two" b=3',
        'MAINTAINER someone@example.com',
        'ENV A=1 B="two words"',
        'ENV LEGACY value with spaces',
        'ENV C=${A}-x',
        'EXPOSE 80 53/udp 8000-8001',
        'VOLUME /data',
        'USER nobody',
        'WORKDIR /srv',
        'WORKDIR app',
        'STOPSIGNAL SIGQUIT',
        'HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD true',
        'ONBUILD RUN echo triggered',
        'ENTRYPOINT ["/bin/echo"]',
        'CMD ["hello"]',
        '',
      ].join('\n'),
    });
    const r = await daemon.d.docker(['build', '-t', 'meta:1', dir], LEGACY);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Step 1\/\d+ : FROM busybox/);
    assert.match(r.stdout, /Successfully tagged meta:1/);
    const img = await inspect('meta:1');
    // The image config fields the Dockerfile set (assertions below say what each must be).
    const c = img.Config as {
      Labels: Record<string, string>;
      Env: string[];
      ExposedPorts: Record<string, object>;
      Volumes: Record<string, object>;
      Healthcheck: unknown;
      OnBuild: string[];
      [field: string]: unknown;
    };
    assert.deepEqual(c.Labels, { 'org.example.a': 'one two', b: '3' });
    assert.ok(c.Env.includes('A=1'));
    assert.ok(c.Env.includes('B=two words'));
    assert.ok(c.Env.includes('LEGACY=value with spaces'));
    assert.ok(c.Env.includes('C=1-x'));
    assert.deepEqual(Object.keys(c.ExposedPorts).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
    assert.deepEqual(Object.keys(c.Volumes), ['/data']);
    assert.equal(c.User, 'nobody');
    assert.equal(c.WorkingDir, '/srv/app');
    assert.equal(c.StopSignal, 'SIGQUIT');
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 4 });
    assert.deepEqual(c.OnBuild, ['RUN echo triggered']);
    assert.deepEqual(c.Entrypoint, ['/bin/echo']);
    assert.deepEqual(c.Cmd, ['hello']);
    const full = JSON.parse(ok(await daemon.d.docker(['image', 'inspect', 'meta:1'])))[0];
    assert.equal(full.Author, 'someone@example.com');
    // The image runs with its entrypoint, user and workdir.
    const out = ok(await daemon.d.docker(['run', '--rm', 'meta:1']));
    assert.equal(out.trim(), 'hello');
    const pwd = ok(
      await daemon.d.docker(['run', '--rm', '--entrypoint', 'sh', 'meta:1', '-c', 'pwd; id -u']),
    );
    assert.equal(pwd.trim(), '/srv/app\n65534');
  });

  test('RUN, COPY and ADD change the filesystem; the image runs with the files', async () => {
    const dir = await ctxDir({
      Dockerfile: [
        'FROM busybox',
        'RUN echo built > /built && mkdir -p /opt/x',
        'COPY a.txt /opt/',
        'COPY dir/ /opt/dir/',
        'COPY --chown=nobody:nogroup --chmod=640 a.txt /opt/owned',
        'COPY *.md /docs/',
        'ADD archive.tar /unpacked/',
        'ADD a.txt /opt/added',
        'RUN ["sh", "-c", "cat /opt/a.txt > /opt/exec-form"]',
        'SHELL ["/bin/sh", "-c"]',
        'RUN cp /opt/a.txt /opt/from-shell',
        '',
      ].join('\n'),
      'a.txt': 'alpha\n',
      'dir/one': '1\n',
      'dir/sub/two': '2\n',
      'x.md': 'x\n',
      'y.md': 'y\n',
      'ignored.txt': 'no\n',
    });
    const { execFileSync } = await import('node:child_process');
    execFileSync('sh', [
      '-c',
      `cd ${dir} && mkdir t && echo inside > t/in.txt && tar -cf archive.tar -C t in.txt && rm -r t`,
    ]);
    const r = await daemon.d.docker(['build', '-t', 'files:1', dir], LEGACY);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const script = [
      'cat /built /opt/a.txt /opt/dir/one /opt/dir/sub/two /unpacked/in.txt /opt/added /opt/exec-form /opt/from-shell',
      'ls /docs',
      'stat -c "%U:%G %a" /opt/owned',
    ].join('; ');
    const out = ok(await daemon.d.docker(['run', '--rm', 'files:1', 'sh', '-c', script]));
    assert.equal(out, 'built\nalpha\n1\n2\ninside\nalpha\nalpha\nalpha\nx.md\ny.md\nnobody:nogroup 640\n');
    // One layer per filesystem step: busybox's + RUN, COPY x4, ADD x2, RUN x2.
    const img = await inspect('files:1');
    const base = await inspect('busybox');
    assert.equal(img.RootFS.Layers.length, base.RootFS.Layers.length + 9);
  });

  test('berth build gives the same image config as docker build, and history per step', async () => {
    const dir = await ctxDir({ Dockerfile: 'FROM busybox\nENV X=1\nRUN touch /f\nCMD ["sh"]\n' });
    const r = await daemon.d.berth(['build', '--progress=plain', '-t', 'viaberth', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /#\d+ \[\d+ \d\/\d\] RUN touch \/f/);
    const h = ok(await daemon.d.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'viaberth']));
    const lines = h.trim().split('\n');
    assert.equal(lines[0], '/bin/sh -c #(nop)  CMD ["sh"]');
    assert.equal(lines[1], '/bin/sh -c touch /f');
    assert.equal(lines[2], '/bin/sh -c #(nop)  ENV X=1');
    const q = await daemon.d.berth(['build', '-q', dir]);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    assert.equal(
      q.stdout.trim(),
      (await inspect('viaberth')).Id,
      'same Dockerfile, fully cached: same image',
    );
  });

  test('ARG: defaults, --build-arg, scope per stage, ARG before FROM', async () => {
    const dir = await ctxDir({
      Dockerfile: [
        'ARG BASE=busybox',
        'ARG GLOBAL=g',
        'FROM ${BASE}',
        'ARG GLOBAL',
        'ARG WHO=world',
        'ARG UNSET',
        'ENV FROM_ARG=${WHO}',
        'RUN echo "hello $WHO $GLOBAL [$UNSET] $TARGETARCH" > /greeting',
        '',
      ].join('\n'),
    });
    const r = await daemon.d.docker(
      ['build', '--build-arg', 'WHO=berth', '--build-arg', 'NOTUSED=1', '-t', 'args:1', dir],
      LEGACY,
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout + r.stderr, /build-args \[NOTUSED\] were not consumed/);
    const out = ok(await daemon.d.docker(['run', '--rm', 'args:1', 'cat', '/greeting']));
    assert.equal(out, 'hello berth g [] \n');
    const img = await inspect('args:1');
    assert.ok((img.Config.Env as string[]).includes('FROM_ARG=berth'));
    assert.ok(
      !(img.Config.Env as string[]).some((e) => e.startsWith('WHO=')),
      'ARG values are not kept in the image env',
    );
  });

  test('heredocs: RUN <<EOF and COPY <<EOF', async () => {
    const dir = await ctxDir({
      Dockerfile: [
        'FROM busybox',
        'ARG NAME=heredoc',
        'RUN <<EOF',
        'echo first > /h1',
        'echo second >> /h1',
        'EOF',
        'COPY <<EOF /etc/greeting',
        'hello ${NAME}',
        'EOF',
        'RUN <<A cat > /h2 && cat /h2 >> /h1',
        'from heredoc A',
        'A',
        '',
      ].join('\n'),
    });
    const r = await daemon.d.berth(['build', '--progress=plain', '-t', 'heredoc', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = ok(await daemon.d.docker(['run', '--rm', 'heredoc', 'sh', '-c', 'cat /h1 /etc/greeting']));
    assert.equal(out, 'first\nsecond\nfrom heredoc A\nhello heredoc\n');
  });

  test('.dockerignore keeps files out of the context, with exceptions', async () => {
    const dir = await ctxDir({
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\n',
      '.dockerignore': 'secret*\n*.log\n!keep.log\nnode_modules\n',
      'secret.key': 'k\n',
      'app.log': 'l\n',
      'keep.log': 'kept\n',
      'node_modules/x/index.js': 'x\n',
      'src/main.c': 'int main;\n',
    });
    for (const [client, args] of [
      ['docker', ['build', '-t', 'ignore:docker', dir]],
      ['berth', ['build', '-t', 'ignore:berth', dir]],
    ] as const) {
      const r =
        client === 'docker' ? await daemon.d.docker([...args], LEGACY) : await daemon.d.berth([...args]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
    }
    for (const tag of ['ignore:docker', 'ignore:berth']) {
      const out = ok(
        await daemon.d.docker(['run', '--rm', tag, 'sh', '-c', 'cd /ctx && find . -type f | sort']),
      );
      assert.deepEqual(
        out.trim().split('\n'),
        ['./.dockerignore', './Dockerfile', './keep.log', './src/main.c'],
        tag,
      );
    }
  });

  test('build - reads a Dockerfile or a context tar from stdin', async () => {
    const r = await daemon.d.berth(['build', '-t', 'stdin:df', '-'], {
      input: 'FROM busybox\nRUN echo piped > /p\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'stdin:df', 'cat', '/p'])), 'piped\n');
    const dir = await ctxDir({ Dockerfile: 'FROM busybox\nCOPY f /f\n', f: 'from tar\n' });
    const { execFileSync } = await import('node:child_process');
    const tar = execFileSync('tar', ['-c', '-C', dir, '.']);
    const r2 = await daemon.d.docker(['build', '-t', 'stdin:tar', '-'], { ...LEGACY, input: tar });
    assert.equal(r2.code, 0, r2.stderr + r2.stdout);
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'stdin:tar', 'cat', '/f'])), 'from tar\n');
  });

  test('a failing RUN stops the build with its exit code and output; nothing is tagged', async () => {
    const dir = await ctxDir({
      Dockerfile: 'FROM busybox\nRUN echo about to fail && exit 3\nRUN echo never\n',
    });
    const r = await daemon.d.docker(['build', '-t', 'failing:1', dir], LEGACY);
    assert.equal(r.code, 3, r.stderr + r.stdout);
    assert.match(r.stderr + r.stdout, /returned a non-zero code: 3/);
    assert.match(r.stdout, /about to fail/);
    assert.doesNotMatch(r.stdout, /never/);
    const b = await daemon.d.berth(['build', '-t', 'failing:1', dir]);
    assert.equal(b.code, 3);
    assert.match(b.stderr, /about to fail/);
    const ls = ok(await daemon.d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']));
    assert.doesNotMatch(ls, /failing/);
    const ps = ok(await daemon.d.docker(['ps', '-aq']));
    assert.equal(ps.trim(), '', 'the failed step container is removed');
  });
});
