// `berth run --use-api-socket` as docker CLI 28: the daemon socket at /var/run/docker.sock, and
// the user's registry credentials (config-file auths, a credential helper's, or
// DOCKER_AUTH_CONFIG) in /run/secrets/docker/config.json (0600) with DOCKER_CONFIG pointing there;
// nothing is injected without credentials or when the container sets DOCKER_CONFIG itself.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-apisock-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A docker config dir holding `config`, and a PATH with a credential helper `berthtest`. */
function configDir(config: unknown): Record<string, string> {
  const dir = mkdtempSync(path.join(tmp, 'cfg-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const helper = path.join(dir, 'docker-credential-berthtest');
  writeFileSync(
    helper,
    '#!/bin/sh\nread server\n[ "$1" = get ] && printf \'{"ServerURL":"%s","Username":"helper-user","Secret":"helper-pw"}\' "$server"\n',
  );
  chmodSync(helper, 0o755);
  return { DOCKER_CONFIG: dir, PATH: `${dir}:${process.env.PATH}` };
}

const inside =
  'test -S /var/run/docker.sock && echo "cfg=$DOCKER_CONFIG" && stat -c %a /run/secrets/docker/config.json && cat /run/secrets/docker/config.json';

describe('run --use-api-socket', () => {
  test('credentials of the config file and its helpers reach the container', async () => {
    const env = configDir({
      auths: { 'registry.example:5000': { auth: b64('alice:s3cret') }, 'a.example': { auth: b64('bob:pw') } },
      credHelpers: { 'helped.example': 'berthtest' },
      psFormat: 'not copied',
    });
    const out = ok(
      await h.d.berth(['run', '--rm', '--use-api-socket', 'busybox', 'sh', '-c', inside], { env }),
    );
    const [cfg, mode, ...json] = out.split('\n');
    assert.equal(cfg, 'cfg=/run/secrets/docker');
    assert.equal(mode, '600');
    // docker's ConfigFile.SaveToWriter: only auths, tab-indented, keys sorted, no trailing newline.
    assert.equal(
      json.join('\n'),
      JSON.stringify(
        {
          auths: {
            'a.example': { auth: b64('bob:pw') },
            'helped.example': { auth: b64('helper-user:helper-pw') },
            'registry.example:5000': { auth: b64('alice:s3cret') },
          },
        },
        null,
        '\t',
      ),
    );
  });

  test('DOCKER_AUTH_CONFIG wins; no credentials or a DOCKER_CONFIG of the container: nothing injected', async () => {
    const env = {
      ...configDir({ auths: { 'file.example': { auth: b64('f:f') } } }),
      DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'env.example': { auth: b64('e:e') } } }),
    };
    const out = ok(
      await h.d.berth(['run', '--rm', '--use-api-socket', 'busybox', 'sh', '-c', inside], { env }),
    );
    assert.match(out, /"env\.example"/);
    assert.doesNotMatch(out, /file\.example/);

    const none = configDir({});
    const bare = await h.d.berth(
      [
        'run',
        '--rm',
        '--use-api-socket',
        'busybox',
        'sh',
        '-c',
        'test -S /var/run/docker.sock && echo "cfg=$DOCKER_CONFIG"; ls /run/secrets 2>&1; true',
      ],
      { env: none },
    );
    assert.match(ok(bare), /^cfg=\n.*No such file or directory/s);

    const own = await h.d.berth(
      [
        'run',
        '--rm',
        '--use-api-socket',
        '-e',
        'DOCKER_CONFIG=/mine',
        'busybox',
        'sh',
        '-c',
        'echo "cfg=$DOCKER_CONFIG"; ls /run/secrets 2>&1; true',
      ],
      { env: configDir({ auths: { 'x.example': { auth: b64('x:x') } } }) },
    );
    assert.match(ok(own), /^cfg=\/mine\n.*No such file or directory/s);
  });

  test('a broken credential helper fails the create before anything exists', async () => {
    const env = configDir({ credsStore: 'missing-helper' });
    const before = ok(await h.d.berth(['ps', '-aq']));
    const r = await h.d.berth(['create', '--use-api-socket', 'busybox', 'true'], { env });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /resolving credentials failed/);
    assert.equal(ok(await h.d.berth(['ps', '-aq'])), before);
  });
});
