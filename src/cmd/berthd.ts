// berthd entry point: parse flags, start, stop gracefully on SIGTERM/SIGINT, reload on SIGHUP.
import { BERTH_GIT_COMMIT, BERTH_VERSION } from '../base/version.ts';
import {
  createLevelledLogger,
  parseCommandLine,
  parseHost,
  startDaemon,
  tlsServerOptions,
  checkDefaultUlimits,
  USAGE,
} from '../daemon/index.ts';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    // dockerd prints the bare error ("unable to configure the daemon with file …").
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.kind === 'version') {
    // dockerd's line: "Docker version 20.10.24, build 297e128".
    process.stdout.write(`Berth version ${BERTH_VERSION}, build ${BERTH_GIT_COMMIT || 'unknown'}\n`);
    return;
  }
  if (parsed.kind === 'validate') {
    // Parsing checked flags and file (unknown keys, types, conflicts, values), as dockerd --validate;
    // the TLS files are read too, so a bad certificate is reported before a restart.
    const { config } = parsed;
    const tcpTls = config.hosts.some((h) => {
      const l = parseHost(h, config);
      return l.kind === 'tcp' && l.tls;
    });
    try {
      if (tcpTls) tlsServerOptions(config);
      checkDefaultUlimits(config.defaultUlimits);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    }
    process.stdout.write('configuration OK\n');
    return;
  }
  const { config } = parsed;
  const logger = createLevelledLogger(config.logLevel);
  const log = logger.log;
  // Signals are caught before the daemon starts: a SIGTERM in the window between the socket
  // answering and the handler being installed killed berthd without any clean-up. One that
  // arrives during start-up is acted on once the start finished.
  let pending: string | undefined;
  let stop = (signal: string) => {
    pending ??= signal;
  };
  // SIGHUP's default action ends the process: a reload asked for during start-up waits for it.
  let reloadPending = false;
  let reload = () => {
    reloadPending = true;
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => reload());
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, log);
  } catch (err) {
    log('error', 'failed to start daemon', { err: (err as Error).message });
    process.exit(1);
  }
  reload = () => {
    log('info', 'got signal to reload configuration', { configFile: config.configFile });
    let next: ReturnType<typeof parseCommandLine>;
    try {
      next = parseCommandLine(argv);
    } catch (err) {
      // A broken file changes nothing: the running settings stay as they were.
      log('error', 'error reconfiguring the daemon; the configuration is unchanged', {
        err: (err as Error).message,
      });
      return;
    }
    if (next.kind !== 'run') return;
    const plan = daemon.reload(next.config);
    logger.setLevel(plan.next.logLevel);
    log('info', 'reloaded configuration', { changed: plan.changed });
    if (plan.needRestart.length > 0) {
      log('warn', 'these daemon.json changes take effect at the next start of berthd', {
        keys: plan.needRestart,
      });
    }
  };
  let stopping = false;
  stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const timeout = daemon.shutdownTimeout();
    log('info', 'shutting down', { signal, timeout });
    void daemon.notify('STOPPING=1');
    // The forced exit still releases the host's bridges and rules (bounded), which a graceful
    // close does last and a stuck one never reached. A negative shutdown-timeout waits forever.
    if (timeout >= 0) {
      const force = setTimeout(() => {
        log('warn', 'shutdown took too long; forcing exit', { timeout });
        const bounded = new Promise((r) => setTimeout(r, 5_000).unref());
        void Promise.race([daemon.releaseHost().catch(() => {}), bounded]).then(() => process.exit(1));
      }, timeout * 1000);
      force.unref();
    }
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
  // Type=notify: systemd counts berthd as started once every listener accepts connections.
  await daemon.notify(`READY=1\nMAINPID=${process.pid}`);
  if (pending) stop(pending);
  else if (reloadPending) reload();
}

void main();
