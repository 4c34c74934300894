// A private Debian sshd for ssh:// tests and benches: on a free loopback port, in a temp dir,
// with its own host key and one authorized client key. Nothing of the machine's ssh set-up is
// used or changed: sshd reads only this config; the clients' `ssh` is a wrapper (put
// `clientBin` first on their PATH) that runs /usr/bin/ssh -F with the client config here
// (OpenSSH reads ~/.ssh from the passwd entry, not $HOME, so -F is the way to keep ~/.ssh out).
// The far side's PATH starts with `remoteBin`, where the caller puts its berth/docker wrappers.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';

const SSHD = '/usr/sbin/sshd';

export interface PrivateSshd {
  readonly dir: string;
  readonly port: number;
  /** `ssh://root@127.0.0.1:<port>` */
  readonly url: string;
  /** Holds the `ssh` wrapper: first on the clients' PATH. */
  readonly clientBin: string;
  /** First on the far side's PATH. */
  readonly remoteBin: string;
  /** The client config for `key` (default the authorized one): what the wrapper passes to -F. */
  clientConfig(key?: string): string;
  /** What sshd has said so far (for assertion messages). */
  log(): string;
  /** Stops sshd (TERM, then KILL after 5 s) and removes the directory. */
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** The far side's environment (sshd's SetEnv), e.g. DOCKER_HOST; PATH is remoteBin's. */
  readonly remoteEnv: Readonly<Record<string, string>>;
  /** More client keys that are not authorized, each with its client config (a wrong key). */
  readonly otherKeys?: readonly string[];
  /** The temp dir's name prefix. */
  readonly prefix?: string;
}

/** A `#!/bin/sh` script, executable. */
export function writeScript(file: string, body: string): void {
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
}

export async function startSshd(o: SshdOptions): Promise<PrivateSshd> {
  if (!existsSync(SSHD))
    throw new Error(
      `${SSHD} is missing: run scripts/setup.sh (it installs openssh-server and openssh-client)`,
    );
  const dir = mkdtempSync(path.join(os.tmpdir(), o.prefix ?? 'berth-ssh-'));
  let child: ChildProcess | undefined;
  let sshdLog = '';
  const stop = async () => {
    const c = child;
    if (c?.pid && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      process.kill(c.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const keys = ['client_key', ...(o.otherKeys ?? [])];
    for (const k of ['host_key', ...keys])
      execFileSync('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        'berth-test',
        '-f',
        path.join(dir, k),
      ]);
    writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(path.join(dir, 'client_key.pub')));
    writeFileSync(
      path.join(dir, 'known_hosts'),
      `[127.0.0.1]:${port} ${readFileSync(path.join(dir, 'host_key.pub'), 'utf8')}`,
    );
    const clientConfig = (key = 'client_key') => path.join(dir, `ssh_config.${key}`);
    for (const k of keys)
      writeFileSync(
        clientConfig(k),
        [
          'Host *',
          `  IdentityFile ${path.join(dir, k)}`,
          '  IdentitiesOnly yes',
          '  IdentityAgent none',
          `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`,
          '  GlobalKnownHostsFile /dev/null',
          '  StrictHostKeyChecking yes',
          '  BatchMode yes',
          '',
        ].join('\n'),
      );
    const clientBin = path.join(dir, 'client-bin');
    const remoteBin = path.join(dir, 'bin');
    mkdirSync(clientBin);
    mkdirSync(remoteBin);
    // BERTH_TEST_SSH_CONFIG picks another client config (another key) for one command.
    writeScript(
      path.join(clientBin, 'ssh'),
      `exec /usr/bin/ssh -F "\${BERTH_TEST_SSH_CONFIG:-${clientConfig()}}" "$@"`,
    );
    const remoteEnv = { PATH: `${remoteBin}:/usr/bin:/bin`, ...o.remoteEnv };
    writeFileSync(
      path.join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${path.join(dir, 'host_key')}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        // The keys live in a temp dir under the world-writable /tmp.
        'StrictModes no',
        `SetEnv ${Object.entries(remoteEnv)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
        '',
      ].join('\n'),
    );
    // sshd insists on its privilege separation directory (a runtime dir, created empty if absent).
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const c = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = c;
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (s: string) => {
      sshdLog += s;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`sshd did not start within 10 s:\n${sshdLog}`)),
        10_000,
      );
      const onData = () => {
        if (!sshdLog.includes('Server listening')) return;
        clearTimeout(timer);
        c.off('exit', onExit);
        resolve();
      };
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`sshd exited with ${code}:\n${sshdLog}`));
      };
      c.stderr!.on('data', onData);
      c.once('exit', onExit);
    });
    return {
      dir,
      port,
      url: `ssh://root@127.0.0.1:${port}`,
      clientBin,
      remoteBin,
      clientConfig,
      log: () => sshdLog,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
