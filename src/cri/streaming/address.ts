// The streaming server's listen address, parsed on its own so daemon config checks it (and
// --validate refuses a bad one) without loading the server.
/** `127.0.0.1:0`, `[::1]:10010`, `0.0.0.0:10010` → host and port. */
export function parseStreamingAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535)
    throw new Error(
      `cri-streaming-address "${address}" must be HOST:PORT (e.g. 127.0.0.1:0 for a free loopback port)`,
    );
  return { host: (m[1] ?? m[2]) as string, port };
}
