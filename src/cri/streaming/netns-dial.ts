// A connection to 127.0.0.1:port inside a pod's network namespace, as a Duplex: the bytes go
// through berth-netns-dial (netns-dial.c), whose stdin/stdout are the connection. The duplex
// ends when the helper exits 0 (the pod's side closed) and emits 'error' with the helper's
// message when it exits otherwise (refused, broken). A pod on the host's network is dialled
// directly.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { Duplex } from 'node:stream';

export function dialHost(port: number, signal: AbortSignal): Duplex {
  const sock = net.connect({ host: '127.0.0.1', port, signal });
  // net's own message names the address; say it as the netns helper does.
  return sock.on('error', (err: Error) => {
    err.message = `failed to connect to localhost:${port} on the host's network: ${err.message}`;
  });
}

export function dialInNetns(helper: string, netnsFile: string, port: number, signal: AbortSignal): Duplex {
  const child = spawn(helper, [netnsFile, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const duplex = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (child.stdin.destroyed) return cb();
      child.stdin.write(chunk, () => cb());
    },
    final(cb) {
      child.stdin.end();
      cb();
    },
    read() {
      child.stdout.resume();
    },
    destroy(err, cb) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      cb(err);
    },
  });
  // The helper's stdin closes early when it exits: that is reported by its exit, not here.
  child.stdin.on('error', () => {});
  child.stdout.on('data', (b: Buffer) => {
    if (!duplex.push(b)) child.stdout.pause();
  });
  child.on('error', (err) => duplex.destroy(new Error(`cannot run ${helper}: ${err.message}`)));
  child.on('close', (code, sig) => {
    if (code === 0) return void duplex.push(null);
    if (duplex.destroyed) return;
    const why = stderr.trim() || (sig ? `relay killed by ${sig}` : `relay exited ${code}`);
    duplex.destroy(new Error(why));
  });
  const onAbort = () => duplex.destroy();
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  duplex.once('close', () => signal.removeEventListener('abort', onAbort));
  return duplex;
}
