// kill -9 of berthd between the steps of network connect / disconnect, rename and rm: the next
// start leaves every endpoint inspect shows backed by an interface in the container (or drops
// it), names follow the record, and a removal cut short releases its address and volumes.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { addressesOf, crashed, leftovers } from '../helpers/leaks.ts';

const h = useBusyboxDaemon();

interface Nets {
  [name: string]: { IPAddress: string };
}

async function inspectNets(id: string): Promise<Nets> {
  return JSON.parse(
    ok(await h.d.docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', id])),
  ) as Nets;
}

/** IPv4 addresses on the container's interfaces (lo excluded). */
async function addressesInside(id: string): Promise<string[]> {
  const out = ok(await h.d.docker(['exec', id, 'ip', '-4', '-o', 'addr']));
  return [...out.matchAll(/^\d+: (\S+)\s+inet (\d+\.\d+\.\d+\.\d+)\//gm)]
    .filter((m) => m[1] !== 'lo')
    .map((m) => m[2]!)
    .sort();
}

async function assertConsistent(id: string, what: string): Promise<Nets> {
  const nets = await inspectNets(id);
  const shown = Object.values(nets)
    .map((n) => n.IPAddress)
    .sort();
  assert.ok(
    shown.every((ip) => ip !== ''),
    `${what}: an endpoint without an address: ${JSON.stringify(nets)}`,
  );
  assert.deepEqual(
    await addressesInside(id),
    shown,
    `${what}: inspect and the container's interfaces differ`,
  );
  return nets;
}

async function bridgeOf(net: string): Promise<string> {
  return `br-${ok(await h.d.docker(['network', 'inspect', '-f', '{{.Id}}', net]))
    .trim()
    .slice(0, 12)}`;
}

test('connect and disconnect cut short leave no phantom endpoint', async () => {
  ok(await h.d.docker(['network', 'create', '--subnet', `10.198.${h.d.netByte}.0/24`, 'cnet']));
  const id = ok(await h.d.docker(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '300'])).trim();

  for (const step of ['connect:after-allocate', 'plug:after-veth']) {
    h.d = await h.d.restart({ env: { BERTH_CRASH_AT: step } });
    assert.notEqual((await h.d.docker(['network', 'connect', 'cnet', id], { timeoutMs: 20_000 })).code, 0);
    await crashed(h.d);
    h.d = await h.d.restart();
    const nets = await assertConsistent(id, `${step}: connect cut short`);
    assert.ok(nets.cnet, `${step}: the reserved endpoint is plugged at the next start`);
    const br = await bridgeOf('cnet');
    assert.equal((await fsp.readdir(`/sys/class/net/${br}/brif`)).length, 1, `${step}: one veth on cnet`);
    if (step === 'connect:after-allocate') ok(await h.d.docker(['network', 'disconnect', 'cnet', id]));
  }

  h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'release:after-unplug' } });
  assert.notEqual((await h.d.docker(['network', 'disconnect', 'cnet', id], { timeoutMs: 20_000 })).code, 0);
  await crashed(h.d);
  h.d = await h.d.restart();
  await assertConsistent(id, 'disconnect cut short');
  // Whatever the repair chose, disconnect and a new connect work.
  if ((await inspectNets(id)).cnet) ok(await h.d.docker(['network', 'disconnect', 'cnet', id]));
  ok(await h.d.docker(['network', 'connect', 'cnet', id]));
  await assertConsistent(id, 'connected again');
  const br = await bridgeOf('cnet');
  assert.equal((await fsp.readdir(`/sys/class/net/${br}/brif`)).length, 1, 'one veth per endpoint on cnet');
  assert.equal((await fsp.readdir(`/sys/class/net/${h.d.bridge}/brif`)).length, 1, 'one veth on bridge');
});

test('rename cut short: the endpoints answer to the new name', async () => {
  h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'rename:after-record' } });
  assert.notEqual((await h.d.docker(['rename', 'c1', 'c1new'], { timeoutMs: 20_000 })).code, 0);
  await crashed(h.d);
  h.d = await h.d.restart();
  const names = ok(
    await h.d.docker(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', 'cnet']),
  );
  assert.equal(names.trim(), 'c1new');
  const r = await h.d.docker(['run', '--rm', '--network', 'cnet', 'busybox', 'nslookup', 'c1new'], {
    timeoutMs: 20_000,
  });
  const ip = (await inspectNets('c1new')).cnet!.IPAddress;
  assert.ok(r.stdout.includes(ip), `DNS answers the new name: ${r.stdout} ${r.stderr}`);
});

test('create cut short between the address and the record: no container without its network', async () => {
  const before = ok(await h.d.docker(['network', 'inspect', '-f', '{{json .Containers}}', 'cnet']));
  h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'create:between-record-and-network' } });
  const r = await h.d.docker(['create', '--name', 'halfmade', '--network', 'cnet', 'busybox', 'true'], {
    timeoutMs: 20_000,
  });
  assert.notEqual(r.code, 0);
  await crashed(h.d);
  h.d = await h.d.restart();
  const made = await h.d.docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'halfmade']);
  if (made.code === 0)
    assert.ok(JSON.parse(made.stdout).cnet, `a container without its network: ${made.stdout}`);
  else
    assert.equal(
      ok(await h.d.docker(['network', 'inspect', '-f', '{{json .Containers}}', 'cnet'])),
      before,
      'an address reserved for no container',
    );
});

test('rm cut short after its commit point releases the address and the anonymous volume', async () => {
  const id = ok(await h.d.docker(['create', '--network', 'cnet', '-v', '/data', 'busybox', 'true'])).trim();
  const vol = ok(await h.d.docker(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', id])).trim();
  assert.notEqual(vol, '');
  const ips = await addressesOf(h.d, id);
  for (const step of ['rm:after-record', 'rm:after-network-release']) {
    const cid =
      step === 'rm:after-record'
        ? id
        : ok(await h.d.docker(['create', '--network', 'cnet', '-v', '/data', 'busybox', 'true'])).trim();
    const v = ok(await h.d.docker(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', cid])).trim();
    const cips = await addressesOf(h.d, cid);
    h.d = await h.d.restart({ env: { BERTH_CRASH_AT: step } });
    assert.notEqual((await h.d.docker(['rm', '-v', cid], { timeoutMs: 20_000 })).code, 0);
    await crashed(h.d);
    h.d = await h.d.restart();
    assert.notEqual((await h.d.docker(['inspect', cid])).code, 0, `${step}: the container is gone`);
    const eps = ok(await h.d.docker(['network', 'inspect', '-f', '{{json .Containers}}', 'cnet']));
    assert.ok(!eps.includes(cid), `${step}: its endpoint is released: ${eps}`);
    assert.notEqual(
      (await h.d.docker(['volume', 'inspect', v])).code,
      0,
      `${step}: its anonymous volume is gone`,
    );
    assert.deepEqual(
      (await fsp.readdir(`${h.d.dataRoot}/containers`)).filter((n) => n.startsWith(cid)),
      [],
      step,
    );
    assert.deepEqual(
      await leftovers(h.d, [cid], cips, { bridges: [await bridgeOf('cnet')] }).then((l) =>
        l.filter((x) => !x.startsWith('veth')),
      ),
      [],
      step,
    );
  }
  assert.ok(ips.length > 0);
  ok(await h.d.docker(['rm', '-f', 'c1new']));
  ok(await h.d.docker(['network', 'rm', 'cnet']));
});
