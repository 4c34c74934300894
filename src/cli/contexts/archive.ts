// `context export` / `context import`: docker's context archive, a tar of `meta.json` and
// `tls/<endpoint>/<file>`, so archives move between berth and docker either way. Import reads
// regular files only, refuses any other path, and stops at 10 MiB as docker does. A zip archive
// with the same files is read too, as docker reads one.
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { CliError } from '../context.ts';
import type { ContextMetadata, ContextStore } from './store.ts';
import { isZip, readZip } from './zip.ts';

const MAX_IMPORT = 10 << 20;

/** The archive of a context (`meta` is given so the default context, which is not stored, exports too). */
export async function exportContext(store: ContextStore, meta: ContextMetadata): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const entry = (h: { name: string; mode: number; type?: 'directory' }, body: Buffer = Buffer.alloc(0)) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ ...h, mtime: new Date(0) }, body, (e) => (e ? reject(e) : resolve())),
    );
  await entry({ name: 'meta.json', mode: 0o644 }, Buffer.from(JSON.stringify(meta)));
  await entry({ name: 'tls', type: 'directory', mode: 0o700 });
  for (const [ep, files] of Object.entries(await store.tlsFiles(meta.Name))) {
    await entry({ name: `tls/${ep}`, type: 'directory', mode: 0o700 });
    for (const f of files)
      await entry({ name: `tls/${ep}/${f}`, mode: 0o600 }, await store.readTls(meta.Name, ep, f));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Stores the context in `archive` under `name`. */
export async function importContext(store: ContextStore, name: string, archive: Readable): Promise<void> {
  const extract = tar.extract();
  let meta: ContextMetadata | undefined;
  const tls: Record<string, Record<string, Buffer>> = {};
  let total = 0;
  const finished = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (data) => {
        const c = data as Buffer;
        total += c.length;
        if (total > MAX_IMPORT) extract.destroy(new CliError('context archive is larger than 10MiB'));
        else chunks.push(c);
      });
      stream.on('end', () => {
        try {
          if (h.type === 'file') accept(h.name, Buffer.concat(chunks));
          next();
        } catch (err) {
          extract.destroy(err as Error);
        }
      });
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  const accept = (p: string, data: Buffer) => {
    if (p !== 'meta.json' && !p.startsWith('tls/')) throw new CliError(`${p}: unexpected context file`);
    const parts = p.split('/');
    if (p.includes('\\') || parts.some((x) => x === '' || x === '.' || x === '..')) {
      throw new CliError(`${p}: unexpected path format`);
    }
    if (p === 'meta.json') {
      const v = JSON.parse(data.toString('utf8')) as Partial<ContextMetadata>;
      meta = { Name: name, Metadata: v.Metadata ?? {}, Endpoints: v.Endpoints ?? {} };
      return;
    }
    if (parts.length !== 3) throw new CliError(`${p}: unexpected path format`);
    const ep = tls[parts[1]!] ?? {};
    ep[parts[2]!] = data;
    tls[parts[1]!] = ep;
  };
  try {
    // Read whole (bounded) to tell zip from tar by its first bytes, as docker does.
    const whole = await readBounded(archive, MAX_IMPORT + (1 << 20));
    if (isZip(whole)) {
      for (const e of readZip(whole, MAX_IMPORT)) if (!e.directory) accept(e.name, e.data);
    } else {
      Readable.from([whole]).pipe(extract);
      await finished;
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`invalid context archive: ${(err as Error).message}`);
  }
  if (!meta) throw new CliError('invalid context: no metadata found');
  await store.write(meta);
  for (const [ep, files] of Object.entries(tls)) await store.writeTls(name, ep, files);
}

async function readBounded(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > max) throw new CliError('context archive is larger than 10MiB');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
