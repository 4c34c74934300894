// Image operations through the API, the berth CLI, the real docker CLI and dockerode.
import assert from 'node:assert/strict';
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';
import { dockerLegacyArchive, makeTar, ociLayoutArchive, sha256 } from '../helpers/tarballs.ts';

let d: TestDaemon;
let bbId: string;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.cleanup();
});

function ok(r: { code: number; stderr: string; stdout: string }, what = ''): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe('import', () => {
  test('berth import with --change and --message creates a tagged image', async () => {
    const out = ok(
      await d.berth([
        'import',
        '--change',
        'CMD ["sh"]',
        '-c',
        'ENV GREETING=hello',
        '-c',
        'LABEL org.example=yes',
        '-c',
        'WORKDIR /root',
        '-m',
        'busybox from the host',
        busyboxTar(),
        'busybox:latest',
      ]),
    );
    bbId = out.trim();
    assert.match(bbId, /^sha256:[a-f0-9]{64}$/);
    const inspect = JSON.parse(ok(await d.berth(['image', 'inspect', 'busybox'])))[0];
    assert.equal(inspect.Id, bbId);
    assert.deepEqual(inspect.RepoTags, ['busybox:latest']);
    assert.deepEqual(inspect.Config.Cmd, ['sh']);
    assert.deepEqual(inspect.Config.Env, ['GREETING=hello']);
    assert.equal(inspect.Config.Labels['org.example'], 'yes');
    assert.equal(inspect.Config.WorkingDir, '/root');
    assert.equal(inspect.Comment, 'busybox from the host');
    assert.equal(inspect.RootFS.Layers[0], `sha256:${sha256(readFileSync(busyboxTar()))}`);
    assert.ok(inspect.Size > 1_000_000, `size ${inspect.Size}`);
    assert.equal(inspect.GraphDriver.Name, 'overlay2');
    // The layer really is extracted with its applet links.
    const upper = inspect.GraphDriver.Data.UpperDir as string;
    assert.equal(await fsp.readlink(path.join(upper, 'bin/ls')), '/bin/busybox');
    assert.ok((await fsp.stat(path.join(upper, 'bin/busybox'))).size > 100_000);
  });

  test('docker import from stdin names and lists the image', async () => {
    const r = await d.docker(['import', '-', 'stdin/box:v1'], { inputFile: busyboxTar() });
    ok(r, 'docker import');
    assert.match(r.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    const ls = ok(await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']));
    assert.match(ls, /stdin\/box:v1 [a-f0-9]{12}/);
  });

  test('a bad --change is refused with a clear message and nothing stored', async () => {
    const before = ok(await d.berth(['images', '-q']))
      .trim()
      .split('\n').length;
    const r = await d.berth(['import', '-c', 'RUN echo hi', busyboxTar(), 'bad:change']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid --change "RUN echo hi": RUN is not a valid change command/);
    assert.equal(
      ok(await d.berth(['images', '-q']))
        .trim()
        .split('\n').length,
      before,
    );
  });
});

describe('list, inspect, history', () => {
  test("berth images prints docker's table", async () => {
    const out = ok(await d.berth(['images']));
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.ok(
      lines.some((l) =>
        new RegExp(`^busybox\\s+latest\\s+${bbId.slice(7, 19)}\\s+.*ago\\s+[0-9.]+[kM]B$`).test(l),
      ),
      out,
    );
  });

  test('docker images and berth images agree', async () => {
    const fmt = '{{.Repository}} {{.Tag}} {{.ID}} {{.Size}}';
    const a = ok(await d.docker(['images', '--format', fmt]));
    const b = ok(await d.berth(['images', '--format', fmt]));
    assert.deepEqual(b.split('\n').sort(), a.split('\n').sort());
  });

  test('filters: reference, label, dangling; -q and --no-trunc', async () => {
    assert.equal(
      ok(await d.berth(['images', '-q', '--filter', 'reference=busy*'])).trim(),
      bbId.slice(7, 19),
    );
    assert.equal(
      ok(await d.berth(['images', '-q', '--no-trunc', '--filter', 'label=org.example=yes'])).trim(),
      bbId,
    );
    assert.equal(ok(await d.berth(['images', '-q', '--filter', 'dangling=true'])).trim(), '');
    assert.equal(ok(await d.docker(['images', '-q', 'busybox'])).trim(), bbId.slice(7, 19));
    const bad = await d.berth(['images', '--filter', 'colour=blue']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'colour'/);
  });

  test('--format json and templates with range/if', async () => {
    const line = JSON.parse(ok(await d.berth(['images', '--format', 'json', 'busybox'])).trim());
    assert.equal(line.Repository, 'busybox');
    const t = ok(
      await d.berth([
        'image',
        'inspect',
        '-f',
        '{{range .RepoTags}}[{{.}}]{{end}} {{if .Config.Cmd}}cmd{{else}}none{{end}}',
        'busybox',
      ]),
    );
    assert.equal(t, '[busybox:latest] cmd\n');
  });

  test('history via berth and docker', async () => {
    const b = ok(await d.berth(['history', '--no-trunc', '--format', '{{.ID}}|{{.Comment}}', 'busybox']));
    assert.equal(b.trim(), `${bbId}|busybox from the host`);
    const dk = ok(await d.docker(['history', 'busybox']));
    assert.match(dk, /IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT/);
    assert.match(dk, /busybox from the host/);
  });

  test('inspect of a missing image is 404 "No such image"', async () => {
    const r = await d.request('GET', '/images/nothere/json');
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body.toString()).message, 'No such image: nothere:latest');
    const c = await d.docker(['image', 'inspect', 'nothere']);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /No such image: nothere/);
    const bad = await d.request('GET', '/images/UPPER:case/json');
    assert.equal(bad.status, 404);
  });

  test('invalid reference formats are rejected as docker does', async () => {
    const r = await d.berth(['tag', 'busybox', 'Bad/Name']);
    assert.equal(r.code, 1);
    // Docker reads `Bad` as a registry host, so only `Name` is the repository here.
    assert.match(r.stderr, /invalid reference format: repository name \(Name\) must be lowercase/);
    const r3 = await d.berth(['tag', 'busybox', 'Upper']);
    assert.match(r3.stderr, /repository name \(library\/Upper\) must be lowercase/);
    const r2 = await d.docker(['tag', 'busybox', 'a:b:c']);
    assert.notEqual(r2.code, 0);
  });
});

describe('tag and remove', () => {
  test('untag vs delete follows docker', async () => {
    ok(await d.berth(['tag', 'busybox', 'one/box:1']));
    ok(await d.docker(['tag', 'busybox', 'two/box']));
    const conflict = await d.berth(['rmi', bbId.slice(7, 19)]);
    assert.equal(conflict.code, 1);
    assert.match(
      conflict.stderr,
      /conflict: unable to delete [a-f0-9]{12} \(must be forced\) - image is referenced in multiple repositories/,
    );
    assert.equal(ok(await d.berth(['rmi', 'one/box:1'])), 'Untagged: one/box:1\n');
    assert.equal(ok(await d.docker(['rmi', 'two/box'])).trim(), 'Untagged: two/box:latest');
    const inspect = JSON.parse(ok(await d.berth(['image', 'inspect', bbId])))[0];
    assert.deepEqual(inspect.RepoTags, ['busybox:latest']);
  });

  test('rmi of the last tag deletes the image and its layers; several at once', async () => {
    const id = ok(await d.berth(['import', busyboxTar(), 'tmp/a:1'])).trim();
    ok(await d.berth(['tag', 'tmp/a:1', 'tmp/a:2']));
    const out = ok(await d.berth(['rmi', 'tmp/a:1', 'tmp/a:2']));
    assert.match(out, new RegExp(`Untagged: tmp/a:2\\nDeleted: ${id}\\n`));
    const missing = await d.berth(['rmi', 'tmp/a:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: tmp\/a:1/);
  });

  test('rmi -f deletes an image referenced in several repositories', async () => {
    const id = ok(await d.berth(['import', busyboxTar()])).trim();
    ok(await d.berth(['tag', id, 'x/y:1']));
    ok(await d.berth(['tag', id, 'z/w:1']));
    const out = ok(await d.berth(['rmi', '-f', id.slice(7, 15)]));
    assert.match(out, /Untagged: x\/y:1\nUntagged: z\/w:1\nDeleted: sha256:/);
  });

  test('image prune removes dangling images only; -a removes unused', async () => {
    const id = ok(await d.berth(['import', busyboxTar()])).trim();
    const dangling = ok(await d.berth(['images', '-q', '--no-trunc', '-f', 'dangling=true'])).trim();
    assert.equal(dangling, id);
    const out = ok(await d.berth(['image', 'prune', '-f']));
    assert.match(out, new RegExp(`deleted: ${id}`));
    assert.match(out, /Total reclaimed space: [0-9.]+[kM]B/);
    assert.ok(ok(await d.berth(['images', '-q'])).includes(bbId.slice(7, 19)));
  });
});

describe('save and load', () => {
  test('berth save → rmi → berth load gives identical IDs and tags', async () => {
    const file = path.join(d.dir, 'bb.tar');
    ok(await d.berth(['save', '-o', file, 'busybox']));
    const list = (await import('node:child_process')).execFileSync('tar', ['tf', file], { encoding: 'utf8' });
    assert.match(list, /manifest\.json/);
    assert.match(list, /index\.json/);
    assert.match(list, /oci-layout/);
    ok(await d.berth(['rmi', 'busybox']));
    const out = ok(await d.berth(['load', '-i', file]));
    assert.equal(out.trim(), 'Loaded image: busybox:latest');
    const id = ok(await d.berth(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
    assert.equal(id, bbId);
  });

  test('docker save | docker load through berthd, several images in one archive', async () => {
    ok(await d.berth(['tag', 'busybox', 'other:v2']));
    const file = path.join(d.dir, 'two.tar');
    ok(await d.docker(['save', '-o', file, 'busybox', 'other:v2']));
    const manifest = JSON.parse(
      (await import('node:child_process')).execFileSync('tar', ['xOf', file, 'manifest.json'], {
        encoding: 'utf8',
      }),
    );
    assert.equal(manifest.length, 1);
    assert.deepEqual(manifest[0].RepoTags.sort(), ['busybox:latest', 'other:v2']);
    ok(await d.berth(['rmi', 'other:v2']));
    const out = ok(await d.docker(['load', '-i', file]));
    assert.match(out, /Loaded image: other:v2/);
  });

  test("a Docker 20.10-format archive with shared, symlinked layers loads with Docker's IDs", async () => {
    const base = await makeTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/base', body: 'base\n' },
    ]);
    const top = await makeTar([{ name: 'etc/top', body: 'top\n' }]);
    const { tar, ids } = await dockerLegacyArchive([
      { layers: [base], repoTags: ['legacy/one:1'], labels: { which: 'one' } },
      { layers: [base, top], repoTags: ['legacy/two:1'] },
    ]);
    const file = path.join(d.dir, 'legacy.tar');
    await fsp.writeFile(file, tar);
    const out = ok(await d.berth(['load', '-i', file]));
    assert.match(out, /Loaded image: legacy\/one:1\nLoaded image: legacy\/two:1/);
    assert.equal(ok(await d.berth(['inspect', '-f', '{{.Id}}', 'legacy/one:1'])).trim(), ids[0]);
    assert.equal(
      ok(await d.berth(['inspect', '-f', '{{.Id}} {{len .RootFS.Layers}}', 'legacy/two:1'])).trim(),
      `${ids[1]} 2`,
    );
  });

  test('layers extracted while the archive streams in: contents land in each layer, a reload leaves no temp dirs', async () => {
    const layers = [
      await makeTar([{ name: 'a/one.txt', body: 'one\n' }]),
      await makeTar([
        { name: 'b/two.txt', body: 'two\n' },
        { name: 'a/.wh.one.txt', body: '' },
      ]),
      await makeTar([{ name: 'c/big.bin', body: Buffer.alloc(2 << 20, 3) }]),
    ];
    const { tar } = await dockerLegacyArchive([{ layers, repoTags: ['staged/three:1'] }]);
    const file = path.join(d.dir, 'staged.tar');
    await fsp.writeFile(file, tar);
    for (let i = 0; i < 2; i++) {
      assert.match(ok(await d.berth(['load', '-i', file])), /Loaded image: staged\/three:1/);
    }
    const diffIds: string[] = JSON.parse(
      ok(await d.berth(['inspect', '-f', '{{json .RootFS.Layers}}', 'staged/three:1'])),
    );
    assert.deepEqual(
      diffIds,
      layers.map((l) => `sha256:${sha256(l)}`),
    );
    const layerRoot = path.join(d.dataRoot, 'layers');
    const metas = await Promise.all(
      (await fsp.readdir(layerRoot))
        .filter((n) => /^[a-f0-9]{64}$/.test(n))
        .map(async (n) => ({
          n,
          meta: JSON.parse(await fsp.readFile(path.join(layerRoot, n, 'meta.json'), 'utf8')),
        })),
    );
    const dirOf = (diffId: string | undefined) =>
      path.join(layerRoot, metas.find((m) => m.meta.labels.diffId === diffId)!.n, 'diff');
    assert.equal(await fsp.readFile(path.join(dirOf(diffIds[0]), 'a/one.txt'), 'utf8'), 'one\n');
    assert.equal(await fsp.readFile(path.join(dirOf(diffIds[1]), 'b/two.txt'), 'utf8'), 'two\n');
    assert.ok((await fsp.lstat(path.join(dirOf(diffIds[1]), 'a/one.txt'))).isCharacterDevice(), 'whiteout');
    assert.equal((await fsp.stat(path.join(dirOf(diffIds[2]), 'c/big.bin'))).size, 2 << 20);
    // The second load found every layer present: its staged extractions were all discarded.
    assert.deepEqual(
      (await fsp.readdir(layerRoot)).filter((n) => n.startsWith('.berth-tmp-')),
      [],
    );
    assert.deepEqual(await fsp.readdir(path.join(d.dataRoot, 'blobs', 'ingest')), []);
    ok(await d.berth(['rmi', 'staged/three:1']));
  });

  test('an OCI layout tarball with gzip layers loads', async () => {
    const layer = await makeTar([{ name: 'hello.txt', body: 'hi from oci\n' }]);
    const { tar, id } = await ociLayoutArchive({ layers: [layer], repoTags: ['oci/hello:latest'] });
    const r = await d.request('POST', '/images/load', tar, { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /Loaded image: oci\/hello:latest/);
    assert.equal(ok(await d.berth(['inspect', '-f', '{{.Id}}', 'oci/hello'])).trim(), id);
  });

  test('dockerode lists, inspects, saves and loads', async () => {
    const docker = new Docker({ socketPath: d.socket });
    const images = await docker.listImages();
    assert.ok(images.some((i) => i.RepoTags?.includes('busybox:latest')));
    const info = await docker.getImage('busybox').inspect();
    assert.equal(info.Id, bbId);
    const stream = await docker.getImage('busybox').get();
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    await docker.getImage('busybox').remove();
    const loadStream = await docker.loadImage(Buffer.concat(chunks) as never);
    let text = '';
    for await (const c of loadStream) text += c.toString();
    assert.match(text, /Loaded image: busybox:latest/);
    assert.equal((await docker.getImage('busybox').inspect()).Id, bbId);
  });
});
