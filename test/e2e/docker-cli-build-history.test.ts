// `docker history` of a legacy build reads as Docker's legacy builder writes it (issue 15, item
// 1): metadata steps behind `<shell> #(nop)  `, WORKDIR/COPY/ADD behind `#(nop) `, RUN without
// the `RUN` word, ARG as a step, Go's %q/%v formatting, no comment. The expectations are what
// Docker 20.10 printed for the same Dockerfiles (only the COPY checksums differ: Docker's is a
// tarsum, Berth's its own content checksum). Also item 7: an empty Dockerfile is a 400.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useContextDirs, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const LEGACY = { env: { DOCKER_BUILDKIT: '0' } };
const daemon = useBusyboxDaemon();
const { ctxDir } = useContextDirs();

async function history(ref: string, format: string, noTrunc = true): Promise<string[]> {
  const args = ['history', ...(noTrunc ? ['--no-trunc'] : []), '--format', format, ref];
  return ok(await daemon.d.docker(args))
    .trimEnd()
    .split('\n');
}

const HEX = '[0-9a-f]{64}';

test('history of every metadata instruction is worded as Docker writes it', async () => {
  const dir = await ctxDir({
    Dockerfile: [
      'FROM busybox',
      'ENV A=1 B="two words"',
      'LABEL x=y "z z"=w',
      'WORKDIR /work',
      'COPY one /one',
      'ADD one /two/',
      'EXPOSE 80/tcp 53/udp',
      'VOLUME ["/data"]',
      'USER nobody',
      'ARG V=1',
      'STOPSIGNAL SIGTERM',
      'HEALTHCHECK --interval=5s CMD true',
      'SHELL ["/bin/sh", "-c"]',
      'ONBUILD RUN echo hi',
      'ENTRYPOINT ["sh"]',
      'RUN echo $V > /dev/null',
      'CMD ["cat", "/one"]',
      'MAINTAINER me',
      '',
    ].join('\n'),
    one: 'one\n',
  });
  ok(await daemon.d.docker(['build', '-q', '-t', 'hist:1', dir], LEGACY));
  const lines = await history('hist:1', '{{.CreatedBy}}|{{.Comment}}');
  const expected = [
    '/bin/sh -c #(nop)  MAINTAINER me|',
    '/bin/sh -c #(nop)  CMD ["cat" "/one"]|',
    '|1 V=1 /bin/sh -c echo $V > /dev/null|',
    '/bin/sh -c #(nop)  ENTRYPOINT ["sh"]|',
    '/bin/sh -c #(nop)  ONBUILD RUN echo hi|',
    '/bin/sh -c #(nop)  SHELL [/bin/sh -c]|',
    `/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" '\\x00'}|`,
    '/bin/sh -c #(nop)  STOPSIGNAL SIGTERM|',
    '/bin/sh -c #(nop)  ARG V=1|',
    '/bin/sh -c #(nop)  USER nobody|',
    '/bin/sh -c #(nop)  VOLUME [/data]|',
    '/bin/sh -c #(nop)  EXPOSE 53/udp 80/tcp|',
    new RegExp(`^/bin/sh -c #\\(nop\\) ADD file:${HEX} in /two/ \\|$`),
    new RegExp(`^/bin/sh -c #\\(nop\\) COPY file:${HEX} in /one \\|$`),
    '/bin/sh -c #(nop) WORKDIR /work|',
    '/bin/sh -c #(nop)  LABEL x=y z z=w|',
    '/bin/sh -c #(nop)  ENV A=1 B=two words|',
  ];
  assert.equal(lines.length, expected.length + 1, lines.join('\n'));
  expected.forEach((e, i) => {
    if (typeof e === 'string') assert.equal(lines[i], e);
    else assert.match(lines[i]!, e);
  });
  // The same file's content gives the same checksum in COPY and ADD.
  assert.equal(lines[12]!.split(' ')[4], lines[13]!.split(' ')[4]);
  // Without --no-trunc the CLI cuts the text at 45 cells, as it does Docker's.
  const short = await history('hist:1', '{{.CreatedBy}}', false);
  assert.equal(short[1], '/bin/sh -c #(nop)  CMD ["cat" "/one"]');
  assert.equal(short[6], '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL…');
});

test('history of SHELL, exec forms, build args, dir/multi sources, --chown and HEALTHCHECK flags', async () => {
  const dir = await ctxDir({
    Dockerfile: [
      'FROM busybox AS base',
      'RUN echo base > /base',
      'FROM busybox',
      'ARG NODEF',
      'ARG X=1',
      'ENV Q="a\\"b" U=日本',
      'LABEL "k"="v w" e=""',
      'COPY d /dd',
      'COPY a b /ab/',
      'COPY --from=base /base /b2',
      'WORKDIR /w',
      'COPY --chown=1:2 a rel/',
      'RUN ["echo", "exec form"]',
      'SHELL ["/bin/ash", "-c"]',
      'CMD echo shell form',
      'HEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 --start-period=1.5s CMD ["true", "x"]',
      'HEALTHCHECK NONE',
      'WORKDIR rel',
      'ENTRYPOINT echo ent',
      'STOPSIGNAL 9',
      '',
    ].join('\n'),
    a: 'a\n',
    b: 'b\n',
    'd/c': 'c\n',
  });
  ok(await daemon.d.docker(['build', '-q', '-t', 'hist:2', '--build-arg', 'NODEF=zz', dir], LEGACY));
  const lines = await history('hist:2', '{{.CreatedBy}}');
  const expected = [
    '/bin/ash -c #(nop)  STOPSIGNAL 9',
    '/bin/ash -c #(nop)  ENTRYPOINT ["/bin/ash" "-c" "echo ent"]',
    '/bin/ash -c #(nop) WORKDIR /w/rel',
    `/bin/ash -c #(nop)  HEALTHCHECK &{["NONE"] "0s" "0s" "0s" '\\x00'}`,
    `/bin/ash -c #(nop)  HEALTHCHECK &{["CMD" "true" "x"] "1m30s" "500ms" "1.5s" '\\x03'}`,
    '/bin/ash -c #(nop)  CMD ["/bin/ash" "-c" "echo shell form"]',
    '/bin/ash -c #(nop)  SHELL [/bin/ash -c]',
    '|2 NODEF=zz X=1 echo exec form',
    new RegExp(`^/bin/sh -c #\\(nop\\) COPY --chown=1:2file:${HEX} in rel/ $`),
    '/bin/sh -c #(nop) WORKDIR /w',
    new RegExp(`^/bin/sh -c #\\(nop\\) COPY file:${HEX} in /b2 $`),
    new RegExp(`^/bin/sh -c #\\(nop\\) COPY multi:${HEX} in /ab/ $`),
    new RegExp(`^/bin/sh -c #\\(nop\\) COPY dir:${HEX} in /dd $`),
    '/bin/sh -c #(nop)  LABEL k=v w e=',
    '/bin/sh -c #(nop)  ENV Q=a"b U=日本',
    '/bin/sh -c #(nop)  ARG X=1',
    '/bin/sh -c #(nop)  ARG NODEF',
  ];
  // The imported base layer's empty CreatedBy prints no line.
  assert.equal(lines.length, expected.length, lines.join('\n'));
  expected.forEach((e, i) => {
    if (typeof e === 'string') assert.equal(lines[i], e);
    else assert.match(lines[i]!, e);
  });
});

test('--label adds one LABEL step per key, sorted, as Docker does', async () => {
  const dir = await ctxDir({ Dockerfile: 'FROM busybox\nCMD ["true"]\n' });
  ok(
    await daemon.d.docker(
      ['build', '-q', '-t', 'hist:3', '--label', 'zz=1', '--label', 'aa=two', dir],
      LEGACY,
    ),
  );
  const lines = await history('hist:3', '{{.CreatedBy}}');
  assert.deepEqual(lines.slice(0, 3), [
    '/bin/sh -c #(nop)  LABEL zz=1',
    '/bin/sh -c #(nop)  LABEL aa=two',
    '/bin/sh -c #(nop)  CMD ["true"]',
  ]);
});

test('an empty Dockerfile is a 400 before the build starts, in Docker words', async () => {
  const dir = await ctxDir({ Dockerfile: '', 'other.df': '' });
  const r = await daemon.d.docker(['build', dir], LEGACY);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /Error response from daemon: the Dockerfile \(Dockerfile\) cannot be empty/);
  const f = await daemon.d.docker(['build', '-f', `${dir}/other.df`, dir], LEGACY);
  assert.equal(f.code, 1, f.stdout);
  assert.match(f.stderr, /Error response from daemon: the Dockerfile \(other\.df\) cannot be empty/);
  // A Dockerfile that does not parse is refused the same way: a 400, no stream.
  const bad = await ctxDir({ Dockerfile: '# only a comment\n' });
  const tar = await import('node:child_process').then((cp) =>
    cp.execFileSync('tar', ['-c', '-C', bad, 'Dockerfile']),
  );
  const res = await daemon.d.request('POST', '/v1.41/build', tar, { 'Content-Type': 'application/x-tar' });
  assert.equal(res.status, 400, res.body.toString());
  assert.match(JSON.parse(res.body.toString()).message, /empty|no instructions/);
});
