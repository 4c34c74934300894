import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanEntryPath } from '../../../src/archive/entry-path.ts';
import {
  decodeHeader,
  decodeNumber,
  encodeHeader,
  encodePaxRecords,
  parsePaxRecords,
  TarFormatError,
  TypeFlag,
} from '../../../src/archive/tar-format.ts';
import { TarReader } from '../../../src/archive/tar-reader.ts';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';
import { buildTar, streamOf } from './helpers.ts';
import { globalPaxFlood, paxRecords, rawEntry } from '../../helpers/hostile-tar.ts';

describe('cleanEntryPath', () => {
  const ok: [string, string][] = [
    ['a', 'a'],
    ['./a/b', 'a/b'],
    ['a//b/', 'a/b'],
    ['././a/./b', 'a/b'],
    ['a/../b', 'b'],
    ['a/b/../../c', 'c'],
    ['./', ''],
    ['.', ''],
    ['a/..', ''],
    ['..a/b..', '..a/b..'],
    ['.wh..wh..opq', '.wh..wh..opq'],
  ];
  for (const [raw, want] of ok) {
    it(`cleans ${JSON.stringify(raw)} to ${JSON.stringify(want)}`, () => {
      assert.equal(cleanEntryPath(raw, raw), want);
    });
  }
  const bad: [string, RegExp][] = [
    ['../escape', /escapes the layer root/],
    ['a/../../escape', /escapes the layer root/],
    ['./..', /escapes the layer root/],
    ['/etc/x', /is absolute/],
    ['//etc/x', /is absolute/],
    ['', /empty path/],
    ['a\0b', /NUL/],
  ];
  for (const [raw, re] of bad) {
    it(`refuses ${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => cleanEntryPath(raw, raw),
        (err: unknown) =>
          err instanceof InvalidArgumentError && err.code === 'LAYER_UNSAFE_ENTRY' && re.test(err.message),
      );
    });
  }
  it('names the entry in the message', () => {
    assert.throws(() => cleanEntryPath('../escape', '../escape'), {
      message: 'refusing layer entry "../escape": path escapes the layer root',
    });
  });
});

describe('tar format', () => {
  it('round-trips a header through encode/decode', () => {
    const block = encodeHeader({
      name: 'dir/file',
      mode: 0o4755,
      uid: 1000,
      gid: 2000,
      size: 12345,
      mtime: 1_700_000_000,
      typeflag: TypeFlag.file,
      linkname: '',
    });
    const h = decodeHeader(block);
    assert.deepEqual(h, {
      name: 'dir/file',
      mode: 0o4755,
      uid: 1000,
      gid: 2000,
      size: 12345,
      mtime: 1_700_000_000,
      typeflag: TypeFlag.file,
      linkname: '',
      devmajor: 0,
      devminor: 0,
    });
  });

  it('returns null for a zero block and rejects a bad checksum', () => {
    assert.equal(decodeHeader(Buffer.alloc(512)), null);
    const block = encodeHeader({
      name: 'x',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
      typeflag: TypeFlag.file,
    });
    block[0] = 0x79;
    assert.throws(() => decodeHeader(block), TarFormatError);
  });

  it('decodes GNU base-256 numbers, positive and negative', () => {
    const b = Buffer.alloc(12);
    b[0] = 0x80;
    b.writeUIntBE(2 ** 40 + 5, 6, 6);
    assert.equal(decodeNumber(b, 0, 12, 'size'), 2 ** 40 + 5);
    const n = Buffer.alloc(12, 0xff);
    n[11] = 0xfe; // -2
    assert.equal(decodeNumber(n, 0, 12, 'mtime'), -2);
  });

  it('keeps PAX values as raw bytes (binary xattrs survive)', () => {
    const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff, 0x0a, 0x3d]);
    const data = encodePaxRecords([
      ['path', Buffer.from('a/b')],
      ['SCHILY.xattr.security.capability', value],
    ]);
    const rec = parsePaxRecords(data);
    assert.deepEqual(rec.get('SCHILY.xattr.security.capability'), value);
    assert.equal(rec.get('path')?.toString(), 'a/b');
  });

  it('encodes PAX record lengths correctly at digit boundaries', () => {
    for (let n = 80; n < 120; n++) {
      const data = encodePaxRecords([['k', Buffer.alloc(n, 0x61)]]);
      assert.equal(parsePaxRecords(data).get('k')?.length, n);
    }
  });

  it('rejects malformed PAX records', () => {
    assert.throws(() => parsePaxRecords(Buffer.from('99 path=x\n')), TarFormatError);
    assert.throws(() => parsePaxRecords(Buffer.from('x path=x\n')), TarFormatError);
    assert.throws(() => parsePaxRecords(Buffer.from('10 pathx\n')), TarFormatError);
  });
});

describe('TarReader', () => {
  it('reads long names (PAX) and keeps reading across tiny chunks', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
    const tarball = await buildTar([
      { name: long, content: 'hello' },
      { name: 'link', type: 'symlink', linkname: 't'.repeat(200) },
    ]);
    const r = new TarReader(streamOf(tarball, 7));
    const a = await r.next();
    assert.equal(a?.name, long);
    assert.equal((await r.readContent()).toString(), 'hello');
    const b = await r.next();
    assert.equal(b?.kind, 'symlink');
    assert.equal(b?.linkname, 't'.repeat(200));
    assert.equal(await r.next(), null);
  });

  it('fails a truncated archive', async () => {
    const tarball = await buildTar([{ name: 'f', content: 'x'.repeat(5000) }]);
    const r = new TarReader(streamOf(tarball.subarray(0, 2000)));
    await r.next();
    await assert.rejects(r.readContent(), /layer is not a valid tar stream: unexpected end of data/);
  });

  it('rejects data that is not tar', async () => {
    const r = new TarReader(streamOf(Buffer.alloc(1024, 0x41)));
    await assert.rejects(
      r.next(),
      (err: unknown) => err instanceof InvalidArgumentError && err.code === 'LAYER_INVALID_TAR',
    );
  });
});

describe('TarReader global PAX headers', () => {
  it('keeps a small global header and applies it to later entries', async () => {
    const tarball = Buffer.concat([
      rawEntry(
        'g',
        'g',
        paxRecords([
          ['comment', 'abc'],
          ['mtime', '1700000000'],
        ]),
      ),
      rawEntry('f', '0', Buffer.from('hi')),
      Buffer.alloc(1024),
    ]);
    const r = new TarReader(streamOf(tarball));
    const e = await r.next();
    assert.equal(e?.name, 'f');
    assert.equal(e?.mtime, 1700000000);
    assert.equal((await r.readContent()).toString(), 'hi');
    assert.equal(await r.next(), null);
  });

  it('refuses global headers that accumulate without bound (fresh keys each time)', async () => {
    const tarball = Buffer.concat([...globalPaxFlood(8, 20_000)]);
    const r = new TarReader(streamOf(tarball));
    await assert.rejects(r.next(), /global PAX headers hold more than/);
  });

  it('refuses many tiny global keys (each later entry would copy them all)', async () => {
    const pairs: [string, string][] = Array.from({ length: 65 }, (_, i) => [`k${i}`, '1']);
    const tarball = Buffer.concat([rawEntry('g', 'g', paxRecords(pairs)), Buffer.alloc(1024)]);
    await assert.rejects(new TarReader(streamOf(tarball)).next(), /global PAX headers hold more than/);
  });

  it('a global header that only repeats its keys does not grow', async () => {
    const one = rawEntry('g', 'g', paxRecords([['comment', 'x'.repeat(1000)]]));
    const tarball = Buffer.concat([
      ...Array(500).fill(one),
      rawEntry('f', '0', Buffer.alloc(0)),
      Buffer.alloc(1024),
    ]);
    const r = new TarReader(streamOf(tarball));
    assert.equal((await r.next())?.name, 'f');
  });
});
