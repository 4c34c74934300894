// Docker's create-time refusals (pure): each one with Docker's wording, and what real clients send
// still accepted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerConfig, HostConfig } from '../../../src/containers/index.ts';
import { parseExtraHost, verifyContainerSettings } from '../../../src/containers/verify.ts';

const refuses = (c: Partial<ContainerConfig> & { MacAddress?: string }, h: HostConfig, re: RegExp) =>
  assert.throws(
    () => verifyContainerSettings(c, h),
    (e: Error & { kind?: string }) => e.kind === 'invalid-argument' && re.test(e.message),
  );

test('what the docker CLI and docker-py send passes', () => {
  verifyContainerSettings(
    {
      WorkingDir: '/app',
      Hostname: 'web-1.example.com',
      Domainname: 'example.com',
      ExposedPorts: { '80/tcp': {}, '53/udp': {}, '9000-9010/tcp': {} },
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Timeout: 0, Retries: 3 },
      MacAddress: '02:42:ac:11:00:02',
    } as Partial<ContainerConfig>,
    {
      PortBindings: {
        '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }, { HostPort: '' }],
        '53/udp': null,
      },
      OomScoreAdj: -1000,
      Dns: ['1.1.1.1', '::1'],
      DnsSearch: ['example.com', '.'],
      DnsOptions: ['ndots:2', 'use-vc'],
      ExtraHosts: ['db:10.0.0.5', 'v6:::1', 'eq=1.2.3.4', 'br:[::1]'],
    },
  );
});

test('ExtraHosts parse as Docker splits them (first colon, or =; brackets dropped)', () => {
  assert.deepEqual(parseExtraHost('v6:::1'), { host: 'v6', ip: '::1' });
  assert.deepEqual(parseExtraHost('eq=1.2.3.4'), { host: 'eq', ip: '1.2.3.4' });
  assert.deepEqual(parseExtraHost('br:[fe80::1]'), { host: 'br', ip: 'fe80::1' });
  assert.equal(parseExtraHost('nohost'), undefined);
});

test('refusals', () => {
  refuses({ Env: ['A=1', '=x'] }, {}, /invalid environment variable: =x/);
  refuses({ Env: [''] }, {}, /invalid environment variable: $/);
  refuses(
    { WorkingDir: 'rel' },
    {},
    /the working directory 'rel' is invalid, it needs to be an absolute path/,
  );
  refuses({ Hostname: 'a_b' }, {}, /invalid hostname format: a_b/);
  refuses({ Hostname: 'x'.repeat(65) }, {}, /invalid hostname format/);
  refuses({ Hostname: 'a\nb' }, {}, /invalid hostname format/);
  refuses({ Healthcheck: { Interval: 10 } }, {}, /Interval in Healthcheck cannot be less than 1ms/);
  refuses({ Healthcheck: { Retries: -2 } }, {}, /Retries in Healthcheck cannot be negative/);
  refuses({ Healthcheck: { Test: ['RUN', 'x'] } }, {}, /unknown Healthcheck type "RUN"/);
  refuses({ ExposedPorts: { '80/icmp': {} } }, {}, /invalid port specification: "80\/icmp"/);
  refuses({ ExposedPorts: { '90-80': {} } }, {}, /invalid port specification/);
  refuses({}, { PortBindings: { '80/tcp': [{ HostPort: '65536' }] } }, /invalid port specification: "65536"/);
  refuses({}, { PortBindings: { '80/tcp': [{ HostPort: '1-99999' }] } }, /invalid port specification/);
  refuses({}, { PortBindings: { '80/tcp': [{ HostIp: 'localhost' }] } }, /invalid IP address: localhost/);
  refuses({}, { OomScoreAdj: 1001 }, /Invalid value 1001, range for oom score adj is \[-1000, 1000\]/);
  refuses({}, { Dns: ['8.8.8.8 '] }, /IP address is not correctly formatted/);
  refuses({}, { DnsSearch: ['a..b'] }, /a\.\.b is not a valid domain/);
  refuses({}, { DnsOptions: ['a b'] }, /invalid DNS option/);
  refuses({}, { ExtraHosts: [':1.2.3.4'] }, /bad format for add-host/);
  refuses({}, { ExtraHosts: ['h:nope'] }, /invalid IP address in add-host: "nope"/);
  refuses({}, { ExtraHosts: ['bad host:1.2.3.4'] }, /invalid hostname in add-host/);
  refuses({}, { ExtraHosts: ['gw:host-gateway'] }, /host-gateway.*not supported by Berth/);
  refuses({ MacAddress: '02:42' }, {}, /invalid MAC address: 02:42/);
});
