import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildReply, parseQuestion } from '../../../src/network/dns.ts';
import {
  bigToIp6,
  contains6,
  formatCidr6,
  ip6ToBig,
  nextFree6,
  parseCidr6,
} from '../../../src/network/ipam6.ts';
import { parseCidr } from '../../../src/network/ipam.ts';
import { planNetwork } from '../../../src/network/plan.ts';

test('IPv6 parsing and RFC 5952 formatting', () => {
  assert.equal(bigToIp6(ip6ToBig('2001:0389:0000:0000:0000:0000:0000:f00d')!), '2001:389::f00d');
  assert.equal(bigToIp6(ip6ToBig('::')!), '::');
  assert.equal(bigToIp6(ip6ToBig('::1')!), '::1');
  assert.equal(bigToIp6(ip6ToBig('fd42:0:0:1:0:0:0:1')!), 'fd42:0:0:1::1'); // longest zero run
  assert.equal(bigToIp6(ip6ToBig('1:0:2:3:4:5:6:7')!), '1:0:2:3:4:5:6:7'); // a single 0 stays
  assert.equal(ip6ToBig('::ffff:10.1.2.3'), ip6ToBig('::ffff:a01:203'));
  for (const bad of ['1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '1.2.3.4', '', ':::'])
    assert.equal(ip6ToBig(bad), undefined, bad);
  assert.equal(formatCidr6(parseCidr6('fd42:1::77/64')), 'fd42:1::/64');
  assert.throws(() => parseCidr6('fd42::/129'), /IPv6 CIDR/);
});

test('formatting and parsing round-trip for any 128-bit address', () => {
  const addr = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
  fc.assert(fc.property(addr, (n) => ip6ToBig(bigToIp6(n)) === n));
});

test('next free IPv6 address skips the subnet address and used ones, within the range, bounded', () => {
  const s = parseCidr6('fd42:1::/64');
  const gw = ip6ToBig('fd42:1::1')!;
  assert.equal(bigToIp6(nextFree6(s, s, new Set([gw]))!), 'fd42:1::2');
  const r = parseCidr6('fd42:1::100/120');
  assert.equal(bigToIp6(nextFree6(s, r, new Set())!), 'fd42:1::100');
  assert.ok(contains6(s, nextFree6(s, r, new Set())!));
  assert.equal(nextFree6(parseCidr6('fd42:1::/127'), parseCidr6('fd42:1::/127'), new Set([gw])), undefined);
  // a huge range full of used addresses gives up after `limit` tries instead of spinning
  const used = new Set(Array.from({ length: 10 }, (_, i) => s.base + 1n + BigInt(i)));
  assert.equal(nextFree6(s, s, used, 10), undefined);
});

test('network names: spaces are accepted as Docker does, control characters refused', () => {
  const ctx = {
    id: 'a'.repeat(64),
    taken: [],
    names: new Set<string>(),
    bridges: new Set<string>(),
    pools: [parseCidr('10.9.0.0/16')],
  };
  assert.equal(planNetwork({ name: 'test 01' }, ctx).name, 'test 01');
  assert.throws(() => planNetwork({ name: 'a\nb' }, ctx), /control characters/);
});

test('IPv6 plan: a v6 pool beside the v4 one; --ipv6 needs one; gateway inside the subnet', () => {
  const ctx = {
    id: 'b'.repeat(64),
    taken: [],
    names: new Set<string>(),
    bridges: new Set<string>(),
    pools: [parseCidr('10.9.0.0/16')],
  };
  const n = planNetwork({ name: 'v6', enableIPv6: true, ipam: [{ Subnet: 'fd42:2::/64' }] }, ctx);
  assert.deepEqual(
    [n.subnet, n.enableIPv6, n.subnet6, n.gateway6],
    ['10.9.0.0/24', true, 'fd42:2::/64', 'fd42:2::1'],
  );
  assert.throws(() => planNetwork({ name: 'v6b', enableIPv6: true }, ctx), /IPv6 subnet/);
  assert.throws(
    () => planNetwork({ name: 'v6c', ipam: [{ Subnet: 'fd42:3::/64', Gateway: 'fd42:4::1' }] }, ctx),
    /not a host address inside subnet fd42:3::\/64/,
  );
  const off = planNetwork({ name: 'v6d', ipam: [{ Subnet: 'fd42:5::/64' }] }, ctx);
  assert.equal(off.enableIPv6, undefined);
  assert.equal(off.subnet6, 'fd42:5::/64');
});

test('DNS: an AAAA reply carries the 16 address bytes', () => {
  // id 0x1234, RD, one question: "web" AAAA IN
  const q = Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x77, 0x65, 0x62, 0, 0, 28, 0, 1]);
  const parsed = parseQuestion(q)!;
  const r = buildReply(q, parsed, ['fd42:1::f00d']);
  assert.equal(r.readUInt16BE(6), 1);
  const ans = r.subarray(q.length);
  assert.deepEqual([ans.readUInt16BE(2), ans.readUInt16BE(10)], [28, 16]);
  assert.equal(ans.subarray(12, 28).toString('hex'), 'fd42000100000000000000000000f00d');
});
