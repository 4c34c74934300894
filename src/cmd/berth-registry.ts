// berth-registry: Berth's own registry server (`berth registry serve`) and its garbage
// collector (`berth registry gc`). A separate program so berthd and the CLI stay small.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Command } from 'commander';
import { registryHandler } from '../registry/server/app.ts';
import { basicAuthorizer, Htpasswd, parseAcl, TokenAuth } from '../registry/server/auth.ts';
import { collectRegistryGarbage } from '../registry/server/gc.ts';
import { RegistryStorage } from '../registry/server/storage.ts';

const program = new Command('berth-registry').description("Berth's OCI distribution registry");

program
  .command('serve')
  .description('Serve a registry from a storage directory')
  .requiredOption('--root <dir>', 'Storage directory')
  .option('--addr <host:port>', 'Listen address', '127.0.0.1:5000')
  .option('--htpasswd <file>', 'Require Basic auth against this bcrypt htpasswd file')
  .option('--token-secret <file>', 'Token mode: sign tokens with the key in this file (needs --htpasswd)')
  .option(
    '--acl <rule>',
    'Token mode grant user:repository:actions (repeatable)',
    (v: string, a: string[]) => [...a, v],
    [] as string[],
  )
  .option('--token-ttl <seconds>', 'Token mode: lifetime of issued tokens', '300')
  .option('--tls-cert <file>', 'TLS certificate (PEM)')
  .option('--tls-key <file>', 'TLS private key (PEM)')
  .action(
    async (o: {
      root: string;
      addr: string;
      htpasswd?: string;
      tokenSecret?: string;
      tokenTtl: string;
      acl: string[];
      tlsCert?: string;
      tlsKey?: string;
    }) => {
      const storage = new RegistryStorage(o.root);
      await storage.init();
      const m = /^(.*):(\d+)$/.exec(o.addr);
      if (!m) throw new Error(`bad --addr "${o.addr}": use host:port`);
      const [host, port] = [m[1]!.replace(/^\[|\]$/g, ''), Number(m[2])];
      const tls = Boolean(o.tlsCert && o.tlsKey);
      if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
      const htpasswd = o.htpasswd ? Htpasswd.load(o.htpasswd) : undefined;
      let token: TokenAuth | undefined;
      if (o.tokenSecret) {
        if (!htpasswd) throw new Error('--token-secret needs --htpasswd for the users');
        token = new TokenAuth({
          htpasswd,
          secret: readFileSync(o.tokenSecret),
          acl: parseAcl(o.acl.length > 0 ? o.acl : ['*:*:pull,push']),
          realm: `${tls ? 'https' : 'http'}://${o.addr}/token`,
          ttlSeconds: Number(o.tokenTtl),
          service: o.addr,
        });
      }
      const authorize = token ? token.authorizer() : htpasswd ? basicAuthorizer(htpasswd) : undefined;
      const api = registryHandler({
        storage,
        ...(authorize ? { authorize } : {}),
        log: (msg) => process.stderr.write(`${msg}\n`),
      });
      const handler: http.RequestListener = (req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        if (token && url.pathname === '/token' && req.method === 'GET') {
          token.handleToken(req, res, url.searchParams).catch((err: unknown) => {
            process.stderr.write(`error: GET /token: ${String((err as Error)?.stack ?? err)}\n`);
            if (!res.headersSent) res.writeHead(500, { 'Content-Length': 0 });
            res.end();
          });
          return;
        }
        api(req, res);
      };
      const server = tls
        ? https.createServer({ cert: readFileSync(o.tlsCert!), key: readFileSync(o.tlsKey!) }, handler)
        : http.createServer(handler);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      process.stderr.write(
        `berth-registry listening on ${tls ? 'https' : 'http'}://${o.addr} (storage ${o.root})\n`,
      );
      // Every signal a service manager, a terminal or a test sends stops the server: close the
      // listener, let requests in flight finish for a few seconds, then exit regardless.
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        server.close(() => {
          void htpasswd?.close();
          process.exit(0);
        });
        server.closeIdleConnections();
        setTimeout(() => process.exit(0), 5000).unref();
      };
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const) process.on(sig, stop);
      // Started by `berth registry serve` (an IPC channel to the CLI): when the CLI goes away,
      // even by SIGKILL, the channel closes and the server stops instead of living on.
      if (process.channel) {
        process.channel.unref();
        process.on('disconnect', stop);
      }
    },
  );

program
  .command('gc')
  .description('Remove blobs no manifest refers to (safe while the registry serves)')
  .requiredOption('--root <dir>', 'Storage directory')
  .option('--grace <seconds>', 'Keep blobs younger than this (uploads in flight)', '600')
  .option('--dry-run', 'Only report what would be removed')
  .action(async (o: { root: string; grace: string; dryRun?: boolean }) => {
    const r = await collectRegistryGarbage(new RegistryStorage(o.root), {
      graceMs: Number(o.grace) * 1000,
      ...(o.dryRun ? { dryRun: true } : {}),
    });
    for (const d of r.removed) process.stdout.write(`${o.dryRun ? 'would remove' : 'removed'} ${d}\n`);
    process.stdout.write(
      `${r.removed.length} blobs (${r.bytesFreed} bytes) ${o.dryRun ? 'unreferenced' : 'removed'}, ${r.kept} kept\n`,
    );
  });

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`berth-registry: ${err.message}\n`);
  process.exit(1);
});
