// How `logs` frames a container's lines: the docker CLI (User-Agent Docker-Client/…) gets each
// stream's consecutive lines in one frame (its demux makes a syscall per frame), every other
// client keeps Docker's frame per line (SDKs iterate frames as lines). Both carry the same bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demux, type Frame } from '../../src/logs/index.ts';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const N = 300;

async function frames(body: Buffer): Promise<Frame[]> {
  const out: Frame[] = [];
  async function* one(): AsyncGenerator<Buffer> {
    yield body;
  }
  for await (const f of demux(one())) out.push(f);
  return out;
}

function perStream(fs: readonly Frame[]): { stdout: string; stderr: string } {
  const pick = (s: string) =>
    Buffer.concat(fs.filter((f) => f.stream === s).map((f) => f.data)).toString('utf8');
  return { stdout: pick('stdout'), stderr: pick('stderr') };
}

test('logs: merged frames for the docker CLI, a frame per line for others, the same bytes', async () => {
  const d = daemon.d;
  // stdout lines in runs, a stderr line after every 50th: runs of one stream to merge.
  const script = `i=1; while [ $i -le ${N} ]; do echo "out $i"; [ $((i % 50)) -eq 0 ] && echo "err $i" >&2; i=$((i+1)); done`;
  ok(await d.docker(['run', '--name', 'framed', 'busybox', 'sh', '-c', script]));
  const wantOut = Array.from({ length: N }, (_, i) => `out ${i + 1}\n`).join('');
  const wantErr = Array.from({ length: N / 50 }, (_, i) => `err ${(i + 1) * 50}\n`).join('');

  const cli = await d.docker(['logs', 'framed']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.stdout, wantOut);
  assert.equal(cli.stderr, wantErr);

  const path = '/v1.47/containers/framed/logs?stdout=1&stderr=1';
  const sdk = await d.request('GET', path, undefined, { 'User-Agent': 'docker-sdk-python/7.1.0' });
  assert.equal(sdk.status, 200);
  const perLine = await frames(sdk.body);
  assert.equal(perLine.length, N + N / 50, 'one frame per line');
  assert.deepEqual(perStream(perLine), { stdout: wantOut, stderr: wantErr });

  const asCli = await d.request('GET', `${path}&timestamps=1`, undefined, {
    'User-Agent': 'Docker-Client/28.0.0 (linux)',
  });
  assert.equal(asCli.status, 200);
  const merged = await frames(asCli.body);
  assert.ok(merged.length < perLine.length / 5, `${merged.length} frames for ${perLine.length} lines`);
  for (let i = 1; i < merged.length; i++) assert.notEqual(merged[i]!.stream, merged[i - 1]!.stream);
  // With -t each line keeps its own timestamp inside the merged frame.
  const stamped = perStream(merged).stdout.split('\n').filter(Boolean);
  assert.equal(stamped.length, N);
  for (const [i, l] of stamped.entries())
    assert.match(l, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z out ${i + 1}$`));

  // docker-py iterating a stream still sees one line per item.
  const py = await run(
    'python3',
    [
      '-c',
      `import docker, json
c = docker.APIClient(base_url="${d.host}", version="1.41")
print(json.dumps([x.decode() for x in c.logs("framed", stream=True, follow=False)]))`,
    ],
    { timeoutMs: 60_000 },
  );
  assert.equal(py.code, 0, py.stderr);
  const items = JSON.parse(py.stdout) as string[];
  assert.equal(items.length, N + N / 50);
  assert.equal(items.filter((x) => x.startsWith('out ')).join(''), wantOut);
});
