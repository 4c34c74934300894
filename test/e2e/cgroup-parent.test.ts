// `docker run --cgroup-parent` (HostConfig.CgroupParent) against berthd: the container's cgroup
// is <parent>/<id> in every v1 hierarchy, limits, stats and update act there, inspect echoes the
// parent, rm removes the parent directories berthd made (only once empty, never one the host
// made), and hostile parents are refused before anything is created. Records from before the
// field (no cgroupParent) keep berthd's --cgroup-parent.
import assert from 'node:assert/strict';
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
const CG = '/sys/fs/cgroup';
const TOP = `/berth-cgp-${process.pid}`;
/** Every hierarchy: runc places a container in each v1 controller, name=systemd and the hybrid unified one. */
const CONTROLLERS = readdirSync(CG);

after(async () => {
  // Whatever a failed test left below this file's top parent, deepest first, in every hierarchy.
  for (const hier of readdirSync(CG)) {
    const walk = async (d: string): Promise<void> => {
      for (const e of await fsp.readdir(d, { withFileTypes: true }).catch(() => []))
        if (e.isDirectory()) await walk(path.join(d, e.name));
      await fsp.rmdir(d).catch(() => {});
    };
    await walk(path.join(CG, hier, TOP));
  }
});

const inEvery = (p: string) => CONTROLLERS.filter((c) => existsSync(path.join(CG, c, p)));

async function runDetached(args: string[]): Promise<string> {
  return ok(await h.d.docker(['run', '-d', ...args, 'busybox', 'sleep', '600'])).trim();
}

describe('docker run --cgroup-parent', () => {
  test('the cgroup is <parent>/<id> everywhere; inspect, stats, top and update use it; rm removes what berthd made', async () => {
    const parent = `${TOP}/jobs`;
    const id = await runDetached(['--cgroup-parent', parent, '--memory', '64m']);
    assert.deepEqual(inEvery(`${parent}/${id}`), CONTROLLERS);
    const procs = await fsp.readFile(path.join(CG, 'memory', parent, id, 'cgroup.procs'), 'utf8');
    assert.ok(procs.trim().length > 0, 'the container runs in that cgroup');
    assert.equal(
      (await fsp.readFile(path.join(CG, 'memory', parent, id, 'memory.limit_in_bytes'), 'utf8')).trim(),
      String(64 * 1024 * 1024),
    );
    const inspected = JSON.parse(ok(await h.d.docker(['inspect', id])))[0];
    assert.equal(inspected.HostConfig.CgroupParent, parent);
    // stats reads the limit from the container's own cgroup (not berthd's parent).
    const stats = ok(await h.d.docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', id]));
    assert.match(stats, /\/ 64MiB/);
    assert.match(ok(await h.d.docker(['top', id])), /sleep 600/);
    ok(await h.d.docker(['update', '--memory', '96m', '--memory-swap', '-1', id]));
    assert.equal(
      (await fsp.readFile(path.join(CG, 'memory', parent, id, 'memory.limit_in_bytes'), 'utf8')).trim(),
      String(96 * 1024 * 1024),
    );
    ok(await h.d.docker(['rm', '-f', id]));
    assert.deepEqual(inEvery(`${parent}/${id}`), [], 'the container cgroup is gone');
    assert.deepEqual(inEvery(TOP), [], 'the parents berthd made are gone');
  });

  test('a shared parent stays until its last container goes; a parent the host made is kept', async () => {
    const shared = `${TOP}/shared`;
    const a = await runDetached(['--cgroup-parent', shared]);
    const b = await runDetached(['--cgroup-parent', `${shared}/deeper`]);
    ok(await h.d.docker(['rm', '-f', a]));
    assert.deepEqual(inEvery(`${shared}/deeper/${b}`), CONTROLLERS);
    ok(await h.d.docker(['rm', '-f', b]));
    assert.deepEqual(inEvery(TOP), [], 'the last removal took the shared parent');

    const host = `${TOP}-host`;
    for (const c of CONTROLLERS) await fsp.mkdir(path.join(CG, c, host));
    try {
      // A relative parent is taken below the hierarchy root, as an absolute one.
      const c = await runDetached(['--cgroup-parent', host.slice(1)]);
      assert.deepEqual(inEvery(`${host}/${c}`), CONTROLLERS);
      assert.equal(
        JSON.parse(ok(await h.d.docker(['inspect', c])))[0].HostConfig.CgroupParent,
        host.slice(1),
      );
      ok(await h.d.docker(['rm', '-f', c]));
      assert.deepEqual(inEvery(`${host}/${c}`), []);
      assert.deepEqual(inEvery(host), CONTROLLERS, 'the host-made parent is kept');
    } finally {
      for (const c of CONTROLLERS) await fsp.rmdir(path.join(CG, c, host)).catch(() => {});
    }
  });

  test('hostile parents are refused with 400 naming the value; nothing is created', async () => {
    const before = ok(await h.d.docker(['ps', '-aq']));
    for (const bad of ['../escape', `${TOP}/../../etc`, '/a/./b', 'a b', '$(id)', 'x\ny', '/', 'a:b:c']) {
      const r = await h.d.docker(['run', '--cgroup-parent', bad, 'busybox', 'true']);
      assert.equal(r.code, 125, `${JSON.stringify(bad)}: ${r.stderr}`);
      assert.ok(r.stderr.includes('invalid HostConfig.CgroupParent'), r.stderr);
      assert.ok(r.stderr.includes(JSON.stringify(bad)), `${bad}: ${r.stderr}`);
      const api = await h.d.request(
        'POST',
        '/containers/create',
        JSON.stringify({ Image: 'busybox', HostConfig: { CgroupParent: bad } }),
        { 'content-type': 'application/json' },
      );
      assert.equal(api.status, 400, api.body.toString());
    }
    assert.equal(ok(await h.d.docker(['ps', '-aq'])), before);
    assert.equal(existsSync(path.join(CG, 'memory', 'escape')), false);
    // Inside another container's cgroup: refused too.
    const host = await runDetached([]);
    const daemonParent = `/berth-test-${path.basename(h.d.dir).replace(/^berth-test-/, '')}`;
    const nested = await h.d.docker(['run', '--cgroup-parent', `${daemonParent}/${host}`, 'busybox', 'true']);
    assert.equal(nested.code, 125);
    assert.match(nested.stderr, new RegExp(`inside the cgroup of container ${host}`));
    ok(await h.d.docker(['rm', '-f', host]));
    const berth = await h.d.berth(['run', '--cgroup-parent', '../x', 'busybox', 'true']);
    assert.equal(berth.code, 125);
    assert.match(berth.stderr, /invalid HostConfig.CgroupParent "\.\.\/x": "\.\." is not allowed/);
  });

  test('a record from before CgroupParent keeps berthd --cgroup-parent', async () => {
    const id = ok(await h.d.docker(['create', 'busybox', 'sleep', '600'])).trim();
    await h.d.stop();
    const file = path.join(h.d.dataRoot, 'containers', id, 'config.v2.json');
    const rec = JSON.parse(await fsp.readFile(file, 'utf8'));
    assert.ok(rec.cgroupParent, 'new records keep their parent');
    delete rec.cgroupParent;
    await fsp.writeFile(file, JSON.stringify(rec));
    h.d = await h.d.restart();
    ok(await h.d.docker(['start', id]));
    const daemonParent = `/berth-test-${path.basename(h.d.dir).replace(/^berth-test-/, '')}`;
    assert.deepEqual(inEvery(`${daemonParent}/${id}`), CONTROLLERS);
    ok(await h.d.docker(['rm', '-f', id]));
  });
});
