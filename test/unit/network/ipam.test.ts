import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildReply, parseQuestion } from '../../../src/network/dns.ts';
import {
  contains,
  formatCidr,
  intToIp,
  ipToInt,
  macFor,
  nextFree,
  overlaps,
  parseCidr,
  pickSubnet,
  routeCidrs,
} from '../../../src/network/ipam.ts';
import { planBindings } from '../../../src/network/ports.ts';

test('CIDR parsing clears host bits and rejects garbage', () => {
  assert.equal(formatCidr(parseCidr('10.1.2.3/24')), '10.1.2.0/24');
  assert.throws(() => parseCidr('10.1.2.0'), /CIDR/);
  assert.throws(() => parseCidr('10.1.256.0/24'), /CIDR/);
  assert.throws(() => parseCidr('10.1.2.0/33'), /CIDR/);
  assert.equal(intToIp(ipToInt('172.31.255.254')!), '172.31.255.254');
});

test('overlap and containment', () => {
  assert.ok(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.5.0.0/16')));
  assert.ok(!overlaps(parseCidr('10.0.1.0/24'), parseCidr('10.0.2.0/24')));
  assert.ok(contains(parseCidr('10.0.1.0/24'), ipToInt('10.0.1.255')!));
  assert.ok(!contains(parseCidr('10.0.1.0/24'), ipToInt('10.0.2.1')!));
});

test('pickSubnet avoids host routes and other networks', () => {
  const routes = routeCidrs(
    'default via 192.0.2.1 dev eth0\n192.0.2.0/24 dev eth0 proto kernel\n172.18.0.0/24 dev x\n',
  );
  assert.equal(routes.length, 2);
  const got = pickSubnet([parseCidr('172.18.0.0/16')], 24, [...routes, parseCidr('172.18.1.0/24')]);
  assert.equal(got && formatCidr(got), '172.18.2.0/24');
  assert.equal(pickSubnet([parseCidr('172.18.0.0/24')], 24, routes), undefined);
});

test('nextFree skips network, broadcast, gateway and used addresses, and does not reuse at once', () => {
  const s = parseCidr('10.9.0.0/29'); // .1-.6 usable
  const used = new Set([ipToInt('10.9.0.1')!, ipToInt('10.9.0.2')!]);
  assert.equal(intToIp(nextFree(s, s, used)!), '10.9.0.3');
  assert.equal(intToIp(nextFree(s, s, used, ipToInt('10.9.0.5'))!), '10.9.0.6');
  // wraps around past the broadcast address
  assert.equal(intToIp(nextFree(s, s, used, ipToInt('10.9.0.6'))!), '10.9.0.3');
  const full = new Set([1, 2, 3, 4, 5, 6].map((i) => ipToInt(`10.9.0.${i}`)!));
  assert.equal(nextFree(s, s, full), undefined);
  // ip-range limits the choice
  assert.equal(intToIp(nextFree(s, parseCidr('10.9.0.4/30'), used)!), '10.9.0.4');
  assert.equal(macFor(ipToInt('172.17.0.2')!), '02:42:ac:11:00:02');
});

test('port bindings: explicit, random, publish-all and bad input', () => {
  const b = planBindings(
    { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostPort: '5353' }] },
    true,
    {
      '80/tcp': {},
      '443/tcp': {},
    },
  );
  assert.deepEqual(b, [
    { containerPort: 80, proto: 'tcp', hostIp: '127.0.0.1', hostPort: 0 },
    { containerPort: 53, proto: 'udp', hostIp: '', hostPort: 5353 },
    { containerPort: 443, proto: 'tcp', hostIp: '', hostPort: 0 },
  ]);
  assert.throws(() => planBindings({ '99999/tcp': [] }, false, {}), /invalid container port/);
  assert.throws(() => planBindings({ '80/tcp': [{ HostIp: 'nope' }] }, false, {}), /invalid host IP/);
});

test('DNS: question parsing and A replies', () => {
  // id 0x1234, RD, one question: web.  A IN
  const q = Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x77, 0x65, 0x62, 0, 0, 1, 0, 1]);
  const parsed = parseQuestion(q)!;
  assert.deepEqual({ name: parsed.name, type: parsed.type }, { name: 'web', type: 1 });
  const r = buildReply(q, parsed, ['10.1.2.3']);
  assert.equal(r.readUInt16BE(0), 0x1234);
  assert.equal(r.readUInt16BE(6), 1); // one answer
  assert.deepEqual([...r.subarray(r.length - 4)], [10, 1, 2, 3]);
  assert.equal(parseQuestion(q.subarray(0, 15)), undefined);
});
