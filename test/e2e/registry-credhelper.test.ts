// Credential helpers (`credsStore`, `credHelpers` in config.json): `berth login` stores the
// secret through `docker-credential-<name>` (the helper has it, config.json does not), push and
// pull send it to the daemon, `logout` erases it. The real docker CLI reads what berth stored.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const daemon = useBusyboxDaemon();
let locked: TestRegistry;
let work = '';

/** A docker-credential helper in Python: one JSON file per server in $HELPER_STORE. */
const HELPER = `#!/usr/bin/python3
import json, os, sys, hashlib
store = os.environ["HELPER_STORE"]
os.makedirs(store, exist_ok=True)
op = sys.argv[1]
data = sys.stdin.read()
def f(url): return os.path.join(store, hashlib.sha256(url.strip().encode()).hexdigest())
if op == "store":
    j = json.loads(data)
    with open(f(j["ServerURL"]), "w") as fh: json.dump(j, fh)
elif op == "get":
    try:
        with open(f(data)) as fh: print(fh.read())
    except FileNotFoundError:
        print("credentials not found in native keychain"); sys.exit(1)
elif op == "erase":
    try: os.remove(f(data))
    except FileNotFoundError: pass
elif op == "list":
    print("{}")
`;

before(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-cred-'));
  const htpasswd = path.join(work, 'htpasswd');
  const line = execFileSync('python3', [
    '-W',
    'ignore',
    '-c',
    "import crypt; print('alice:' + crypt.crypt('s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH)))",
  ]).toString();
  await fsp.writeFile(htpasswd, line);
  locked = await startRegistry({ htpasswd });
  await fsp.mkdir(path.join(work, 'bin'));
  for (const name of ['berthtest', 'berthother']) {
    await fsp.writeFile(path.join(work, 'bin', `docker-credential-${name}`), HELPER, { mode: 0o755 });
  }
});
after(async () => {
  await locked?.stop();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

function envFor(config: string, store: string): Record<string, string> {
  return {
    DOCKER_CONFIG: config,
    PATH: `${path.join(work, 'bin')}:${process.env.PATH}`,
    HELPER_STORE: store,
  };
}

describe('credential helpers', () => {
  for (const mode of ['credsStore', 'credHelpers'] as const) {
    test(`login, push, pull and logout through ${mode}`, async () => {
      const config = path.join(work, `config-${mode}`);
      const store = path.join(work, `store-${mode}`);
      await fsp.mkdir(config);
      const cfg =
        mode === 'credsStore'
          ? { credsStore: 'berthtest' }
          : { credsStore: 'nosuchhelper', credHelpers: { [locked.host]: 'berthother' } };
      await fsp.writeFile(path.join(config, 'config.json'), JSON.stringify(cfg));
      const env = envFor(config, store);
      assert.match(
        ok(
          await daemon.d.berth(['login', '-u', 'alice', '--password-stdin', locked.host], {
            input: 's3cret\n',
            env,
          }),
        ),
        /Login Succeeded/,
      );
      const files = await fsp.readdir(store);
      assert.equal(files.length, 1, 'the helper stored one credential');
      const held = JSON.parse(await fsp.readFile(path.join(store, files[0]!), 'utf8'));
      assert.deepEqual([held.Username, held.Secret], ['alice', 's3cret']);
      assert.doesNotMatch(
        await fsp.readFile(path.join(config, 'config.json'), 'utf8'),
        /s3cret|YWxpY2U6czNjcmV0/,
      );
      const ref = `${locked.host}/helper/${mode.toLowerCase()}:1`;
      ok(await daemon.d.docker(['tag', 'busybox', ref]));
      ok(await daemon.d.berth(['push', ref], { env }));
      ok(await daemon.d.docker(['rmi', ref]));
      ok(await daemon.d.berth(['pull', ref], { env }));
      // The real docker CLI uses the same helper for what berth stored.
      ok(await daemon.d.docker(['rmi', ref]));
      ok(await daemon.d.docker(['pull', ref], { env }));
      ok(await daemon.d.berth(['logout', locked.host], { env }));
      assert.deepEqual(await fsp.readdir(store), [], 'logout erased it in the helper');
      ok(await daemon.d.docker(['rmi', ref]));
      const denied = await daemon.d.berth(['pull', ref], { env });
      assert.notEqual(denied.code, 0);
    });
  }
});
