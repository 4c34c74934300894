// berth context against docker's context store: contexts created by either CLI are seen by the
// other, `use` writes config.json's currentContext, --context / DOCKER_CONTEXT / DOCKER_HOST pick
// the daemon by docker's rules, and export/import archives move between the two CLIs.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
let config = '';

// A fresh docker config dir per file; DOCKER_HOST and BERTH_HOST unset so contexts decide.
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { DOCKER_CONFIG: config, DOCKER_HOST: '', BERTH_HOST: '', ...extra };
}
const berth = (args: string[], extra: Record<string, string> = {}) =>
  daemon.d.berth(args, { env: env(extra) });
const docker = (args: string[], extra: Record<string, string> = {}) =>
  daemon.d.docker(args, { env: env(extra) });

/** `berth context create|update NAME --description … --docker host=<this berthd>`. */
const pointAtDaemon = (verb: 'create' | 'update', name: string, description: string) =>
  berth(['context', verb, name, '--description', description, '--docker', `host=${daemon.d.host}`]);

before(async () => {
  config = await mkdtemp(path.join(os.tmpdir(), 'berth-ctx-cfg-'));
});
after(async () => {
  if (config) await rm(config, { recursive: true, force: true });
});

describe('berth context', () => {
  test('create / ls / inspect share the store with the docker CLI', async () => {
    const c = await pointAtDaemon('create', 'ctx-b', 'made by berth');
    assert.equal(ok(c), 'ctx-b\n');
    assert.equal(c.stderr, 'Successfully created context "ctx-b"\n');
    ok(await docker(['context', 'create', 'ctx-d', '--docker', 'host=unix:///nowhere/docker.sock']));

    const fmt = 'table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}';
    const bl = ok(await berth(['context', 'ls', '--format', fmt]));
    const dl = ok(await docker(['context', 'ls', '--format', fmt]));
    // Only the default context's endpoint differs: each CLI's own default socket.
    const strip = (s: string) =>
      s
        .split('\n')
        .filter((l) => !l.startsWith('default'))
        .join('\n');
    assert.equal(strip(bl), strip(dl));
    assert.match(bl, /^ctx-b {3,}made by berth {3,}unix:\/\/\S+berth\.sock/m);
    assert.match(bl, /^default \* +Current DOCKER_HOST based configuration/m);
    assert.equal(ok(await berth(['context', 'ls', '-q'])), 'ctx-b\nctx-d\ndefault\n');

    const bi = JSON.parse(ok(await berth(['context', 'inspect', 'ctx-d', 'ctx-b'])));
    const di = JSON.parse(ok(await docker(['context', 'inspect', 'ctx-d', 'ctx-b'])));
    assert.deepEqual(bi, di);
    assert.equal(
      ok(await berth(['context', 'inspect', '-f', '{{.Endpoints.docker.Host}}', 'ctx-d'])),
      'unix:///nowhere/docker.sock\n',
    );
  });

  test('use writes currentContext and the next command talks to that daemon', async () => {
    const u = await berth(['context', 'use', 'ctx-b']);
    assert.equal(ok(u), 'ctx-b\n');
    assert.equal(u.stderr, 'Current context is now "ctx-b"\n');
    const cfg = JSON.parse(await readFile(path.join(config, 'config.json'), 'utf8'));
    assert.equal(cfg.currentContext, 'ctx-b');
    assert.equal(ok(await docker(['context', 'show'])), 'ctx-b\n');
    assert.equal(ok(await berth(['context', 'show'])), 'ctx-b\n');
    // ctx-b points at the test daemon: ps works without DOCKER_HOST.
    assert.match(ok(await berth(['ps'])), /^CONTAINER ID/);
    assert.equal(ok(await berth(['version', '--format', '{{.Client.Context}}'])), 'ctx-b\n');

    // DOCKER_CONTEXT and --context override config.json; DOCKER_HOST overrides both.
    const bad = await berth(['ps'], { DOCKER_CONTEXT: 'ctx-d' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /nowhere\/docker\.sock/);
    assert.match((await berth(['--context', 'ctx-d', 'ps'])).stderr, /nowhere\/docker\.sock/);
    assert.match((await berth(['-c', 'ctx-d', 'ps'])).stderr, /nowhere\/docker\.sock/);
    assert.equal(ok(await berth(['context', 'show'], { DOCKER_HOST: daemon.d.host })), 'default\n');
    const conflict = await berth(['-H', daemon.d.host, '--context', 'ctx-b', 'ps']);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /conflicting options: cannot specify both --host and --context/);
  });

  test('rm refuses the context in use and default; -f removes it and resets currentContext', async () => {
    const r = await berth(['context', 'rm', 'ctx-b']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /context "ctx-b" is in use, set -f flag to force remove/);
    assert.match((await berth(['context', 'rm', 'default'])).stderr, /context "default" cannot be removed/);
    assert.match((await berth(['context', 'rm', 'nope'])).stderr, /context "nope" does not exist/);
    assert.equal(ok(await berth(['context', 'rm', '-f', 'ctx-b'])), 'ctx-b\n');
    assert.equal(ok(await docker(['context', 'show'])), 'default\n');
    const dup = await berth(['context', 'create', 'ctx-d', '--docker', 'host=unix:///x.sock']);
    assert.match(dup.stderr, /context "ctx-d" already exists/);
    const badName = await berth(['context', 'create', '-bad', '--docker', 'host=unix:///x.sock']);
    assert.notEqual(badName.code, 0);
    const badKey = await berth(['context', 'create', 'ctx-k', '--docker', 'hots=unix:///x.sock']);
    assert.match(badKey.stderr, /unable to create docker endpoint config: unrecognized config key: hots/);
  });

  test('export from one CLI imports into the other; update changes the endpoint', async () => {
    const file = path.join(config, 'ctx-d.dockercontext');
    const e = await berth(['context', 'export', 'ctx-d', file]);
    ok(e);
    assert.equal(e.stderr, `Written file "${file}"\n`);
    ok(await docker(['context', 'import', 'ctx-from-berth', file]));
    const dfile = path.join(config, 'd.dockercontext');
    ok(await docker(['context', 'export', 'ctx-d', dfile]));
    const i = await berth(['context', 'import', 'ctx-from-docker', dfile]);
    assert.equal(ok(i), 'ctx-from-docker\n');
    assert.equal(i.stderr, 'Successfully imported context "ctx-from-docker"\n');
    for (const n of ['ctx-from-berth', 'ctx-from-docker']) {
      assert.equal(
        ok(await docker(['context', 'inspect', '-f', '{{.Name}} {{.Endpoints.docker.Host}}', n])),
        `${n} unix:///nowhere/docker.sock\n`,
      );
    }
    // docker also imports a zip of the same files (deflated here): berth reads it the same way.
    const zfile = path.join(config, 'd.zip');
    ok(
      await run('python3', [
        '-c',
        'import sys, tarfile, zipfile\nwith tarfile.open(sys.argv[1]) as t, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:\n    [z.writestr(m.name + ("/" if m.isdir() else ""), b"" if m.isdir() else t.extractfile(m).read()) for m in t.getmembers()]',
        dfile,
        zfile,
      ]),
    );
    ok(await docker(['context', 'import', 'zip-docker', zfile]));
    const z = await berth(['context', 'import', 'zip-berth', zfile]);
    assert.equal(ok(z), 'zip-berth\n');
    const fmt = ['context', 'inspect', '-f', '{{json .Endpoints}}'];
    assert.equal(ok(await berth([...fmt, 'zip-berth'])), ok(await docker([...fmt, 'zip-docker'])));
    assert.match(ok(await docker([...fmt, 'zip-berth'])), /unix:\/\/\/nowhere\/docker\.sock/);
    // A zip with a file outside meta.json and tls/ is refused, as a tar with one is.
    const evil = path.join(config, 'evil.zip');
    ok(
      await run('python3', [
        '-c',
        'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    z.writestr("meta.json", "{}"); z.writestr("../x", "x")',
        evil,
      ]),
    );
    const refused = await berth(['context', 'import', 'zip-evil', evil]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /\.\.\/x: unexpected context file/);
    ok(await berth(['context', 'rm', 'zip-berth', 'zip-docker']));
    const u = await pointAtDaemon('update', 'ctx-d', 'now berth');
    assert.equal(ok(u), 'ctx-d\n');
    assert.equal(
      ok(
        await docker([
          'context',
          'ls',
          '--format',
          '{{if eq .Name "ctx-d"}}{{.Description}} {{.DockerEndpoint}}{{end}}',
        ]),
      ).trim(),
      `now berth ${daemon.d.host}`,
    );
  });
});
