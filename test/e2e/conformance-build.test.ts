// The legacy builder's behaviours docker-py's build tests read (api_build_test.py): a RUN
// step's stderr painted red in the `stream` text, every `extrahosts` value docker-py repeats
// as its own param in RUN's /etc/hosts, and `cachefrom` as the only trusted cache (a local hit
// counts when a source stands on it; a missing source means no hits; pruned records still hit
// through the source's parent chain).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

/** Runs a docker-py script against the test daemon; its last stdout line is JSON. */
async function py(body: string): Promise<unknown> {
  const script = `
import docker, io, json
c = docker.APIClient(base_url="${daemon.d.host}", version="1.41")
def build(lines, **kw):
    f = io.BytesIO("\\n".join(lines).encode())
    return list(c.build(fileobj=f, decode=True, **kw))
${body}
`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? 'null');
}

test('a RUN step writes stderr wrapped in the legacy red, stdout as is', async () => {
  const out = (await py(`
chunks = build(["FROM busybox", "RUN sh -c 'echo to-out; >&2 echo to-err'"], nocache=True)
print(json.dumps([ch.get("stream") for ch in chunks if "stream" in ch]))
`)) as string[];
  assert.ok(out.includes('\x1b[91mto-err\n\x1b[0m'), JSON.stringify(out));
  assert.ok(out.includes('to-out\n'), JSON.stringify(out));
});

test('every extra host docker-py sends reaches RUN /etc/hosts', async () => {
  const out = (await py(`
chunks = build(["FROM busybox", "RUN cat /etc/hosts"], nocache=True,
               extra_hosts={"one.berth.test": "127.0.0.1", "two.berth.test": "127.0.0.2"})
print(json.dumps("".join(ch.get("stream", "") + ch.get("error", "") for ch in chunks)))
`)) as string;
  assert.match(out, /127\.0\.0\.1\tone\.berth\.test/);
  assert.match(out, /127\.0\.0\.2\ttwo\.berth\.test/);
  assert.doesNotMatch(out, /error/i);
});

test('cache_from: hits only through the sources, also after the cache records were pruned', async () => {
  const out = (await py(`
df = ["FROM busybox", "ENV FOO=bar", "RUN touch baz", "RUN touch bax"]
def hits(**kw):
    return sum("Using cache" in ch.get("stream", "") for ch in build(df, **kw))
build(df, tag="cf1")
res = {"source": hits(tag="cf2", cache_from=["cf1"])}
c.remove_image("cf2")
res["missing"] = hits(tag="cf2", cache_from=["nosuchtag"])
c.remove_image("cf2")
c.prune_builds()
res["pruned"] = hits(tag="cf3", cache_from=["cf1"])
res["same"] = c.inspect_image("cf3")["Id"] == c.inspect_image("cf1")["Id"]
for t in ("cf1", "cf3"):
    c.remove_image(t)
print(json.dumps(res))
`)) as Record<string, unknown>;
  assert.deepEqual(out, { source: 3, missing: 0, pruned: 3, same: true });
});
