// Raw tar pieces for hostile-archive tests that tar-stream cannot (or will not) write: global
// PAX headers ('g') in any number and size, streamed so a test never holds the whole archive.

/** One 512-byte ustar header with a correct checksum. */
export function rawHeader(name: string, size: number, typeflag: string): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 'utf8');
  b.write('0000644\0', 100);
  b.write('0000000\0', 108);
  b.write('0000000\0', 116);
  b.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  b.write('14000000000\0', 136);
  b.write(typeflag, 156);
  b.write('ustar\0', 257);
  b.write('00', 263);
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return b;
}

/** PAX records `len key=value\n`, each with its own length prefix right. */
export function paxRecords(pairs: [string, string][]): Buffer {
  return Buffer.from(
    pairs
      .map(([k, v]) => {
        const rest = ` ${k}=${v}\n`;
        let len = rest.length + 1;
        while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
        return `${len}${rest}`;
      })
      .join(''),
  );
}

/** A header plus its content padded to 512 bytes. */
export function rawEntry(name: string, typeflag: string, body: Buffer): Buffer {
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([rawHeader(name, body.length, typeflag), body, pad]);
}

/**
 * Yields a tar stream of `count` global PAX headers, each holding about `bytesEach` bytes of
 * records with keys never seen before, then one small file and the end-of-archive blocks.
 */
export function* globalPaxFlood(count: number, bytesEach: number): Generator<Buffer> {
  const value = 'v'.repeat(1000);
  for (let i = 0; i < count; i++) {
    const pairs: [string, string][] = [];
    for (let n = 0; n < bytesEach; n += value.length + 16) pairs.push([`k${i}.${pairs.length}`, value]);
    yield rawEntry(`pax-global-${i}`, 'g', paxRecords(pairs));
  }
  yield rawEntry('file', '0', Buffer.from('x'));
  yield Buffer.alloc(1024);
}
