// berthd entry point: parse flags, start, stop gracefully on SIGTERM/SIGINT.
import { BERTH_VERSION } from '../base/version.ts';
import { createLogger, parseCommandLine, startDaemon, USAGE } from '../daemon/index.ts';

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`Berth version ${BERTH_VERSION}\n`);
    return;
  }
  const log = createLogger(parsed.config.logLevel);
  // Signals are caught before the daemon starts: a SIGTERM in the window between the socket
  // answering and the handler being installed killed berthd without any clean-up. One that
  // arrives during start-up is acted on once the start finished.
  let pending: string | undefined;
  let stop = (signal: string) => {
    pending ??= signal;
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(parsed.config, log);
  } catch (err) {
    log('error', 'failed to start daemon', { err: (err as Error).message });
    process.exit(1);
  }
  let stopping = false;
  stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', 'shutting down', { signal });
    // The forced exit still releases the host's bridges and rules (bounded), which a graceful
    // close does last and a stuck one never reached.
    const force = setTimeout(() => {
      log('warn', 'shutdown took too long; forcing exit');
      const bounded = new Promise((r) => setTimeout(r, 5_000).unref());
      void Promise.race([daemon.releaseHost().catch(() => {}), bounded]).then(() => process.exit(1));
    }, 15_000);
    force.unref();
    daemon.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // A bug in one request's stream handling must not take the API down for every client (the
  // containers would survive, but nobody could reach them): log it loudly and keep serving.
  process.on('uncaughtException', (err) => {
    log('error', 'uncaught exception; berthd keeps running, please report this', {
      err: String(err.stack ?? err),
    });
  });
  process.on('unhandledRejection', (err) => {
    log('error', 'unhandled promise rejection', { err: String((err as Error)?.stack ?? err) });
  });
  if (pending) stop(pending);
}

void main();
