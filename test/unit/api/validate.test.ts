// The body decoder: Go's leniency (null, case-folded names, StrSlice) and its strictness (types,
// integer ranges), with messages that name the field and the Go type.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBody, decodeJsonParam } from '../../../src/api/validate/index.ts';

function refusal(name: Parameters<typeof decodeBody>[0], body: unknown): string {
  try {
    decodeBody(name, body);
  } catch (err) {
    assert.equal((err as { kind?: string }).kind, 'invalid-argument');
    return (err as Error).message;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

describe('integers', () => {
  test('int64 bounds: 2^63 and beyond are refused, -2^63 and 2^63-2^10 are kept', () => {
    assert.match(
      refusal('containerCreate', { HostConfig: { Memory: 2 ** 63 } }),
      /number 9223372036854775808 into field HostConfig\.Memory of type int64/,
    );
    assert.match(refusal('containerCreate', { HostConfig: { Memory: 1e26 } }), /of type int64/);
    assert.match(
      refusal('containerCreate', { HostConfig: { Memory: 1.5 } }),
      /number 1\.5 into field HostConfig\.Memory/,
    );
    const ok = decodeBody<{ HostConfig: { Memory: number; CpuShares: number } }>('containerCreate', {
      HostConfig: { Memory: 2 ** 63 - 1024, CpuShares: -(2 ** 63) },
    });
    assert.equal(ok?.HostConfig.Memory, 2 ** 63 - 1024);
  });

  test('narrow Go types: uint16, uint64, int from the spec', () => {
    assert.match(
      refusal('containerCreate', { HostConfig: { BlkioWeight: 65536 } }),
      /of type uint16: give a whole number from 0 to 65535/,
    );
    assert.match(refusal('containerCreate', { HostConfig: { BlkioWeight: -1 } }), /uint16/);
    assert.match(refusal('execCreate', { ConsoleSize: [-1, 80] }), /ConsoleSize\[0\] of type uint64/);
    assert.match(
      refusal('containerUpdate', { RestartPolicy: { MaximumRetryCount: 'x' } }),
      /string into field RestartPolicy\.MaximumRetryCount of type int64/,
    );
  });
});

describe('types', () => {
  test('maps of strings, lists of strings, booleans, objects', () => {
    assert.match(
      refusal('containerCreate', { Labels: { a: 1 } }),
      /cannot unmarshal number into field Labels\.a of type string$/,
    );
    assert.match(refusal('containerCreate', { Env: 'A=1' }), /string into field Env of type \[\]string/);
    assert.match(refusal('containerCreate', { Tty: 'yes' }), /string into field Tty of type bool/);
    assert.match(
      refusal('containerCreate', { HostConfig: [] }),
      /array into field HostConfig of type object/,
    );
    assert.match(refusal('containerCreate', 'x'), /string into the container create value of type object/);
    assert.match(
      refusal('networkCreate', { IPAM: { Config: [{ Subnet: 10 }] } }),
      /IPAM\.Config\[0\]\.Subnet of type string/,
    );
    assert.match(refusal('volumeCreate', { DriverOpts: { a: [] } }), /DriverOpts\.a of type string/);
    assert.match(refusal('auth', { password: 5 }), /password of type string/);
  });

  test('keys with a slash are shown as written', () => {
    assert.match(
      refusal('containerCreate', { HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 80 }] } } }),
      /HostConfig\.PortBindings\.80\/tcp\[0\]\.HostPort/,
    );
  });
});

describe("Go's leniency", () => {
  test('null fields are dropped; null in maps and lists is the zero value', () => {
    const b = decodeBody<Record<string, unknown>>('containerCreate', {
      Image: 'x',
      Env: null,
      Labels: { a: null },
      Cmd: [null, 'b'],
      HostConfig: { Memory: null, PortBindings: { '80/tcp': null } },
    });
    assert.deepEqual(b, {
      Image: 'x',
      Labels: { a: '' },
      Cmd: ['', 'b'],
      HostConfig: { PortBindings: { '80/tcp': [] } },
    });
    assert.equal(decodeBody('containerCreate', null), undefined);
  });

  test('field names fold case, the spec spelling wins, the last duplicate counts', () => {
    const b = decodeBody<Record<string, unknown>>('containerCreate', {
      image: 'a',
      IMAGE: 'b',
      hostconfig: { memory: 7 },
    });
    assert.deepEqual(b, { Image: 'b', HostConfig: { Memory: 7 } });
    assert.match(
      refusal('containerCreate', { hostConfig: { MEMORY: '1g' } }),
      /HostConfig\.Memory of type int64/,
    );
  });

  test('unknown fields are kept as given; Cmd and Entrypoint take a string', () => {
    const b = decodeBody<Record<string, unknown>>('containerCreate', {
      Cmd: 'sh',
      Entrypoint: 'e',
      Whatever: { x: 1 },
    });
    assert.deepEqual(b, { Cmd: 'sh', Entrypoint: 'e', Whatever: { x: 1 } });
    // exec's Cmd is a plain []string in Go.
    assert.match(refusal('execCreate', { Cmd: 'sh' }), /Cmd of type \[\]string/);
  });
});

describe('JSON query parameters', () => {
  test('build labels and args', () => {
    const q = new URLSearchParams({ labels: '{"a":1}', buildargs: '{"A":null,"B":"x"}' });
    assert.throws(() => decodeJsonParam(q, 'labels', 'buildLabels'), /field labels\.a of type string/);
    assert.deepEqual(decodeJsonParam(q, 'buildargs', 'buildArgs'), { A: null, B: 'x' });
    assert.throws(
      () => decodeJsonParam(new URLSearchParams({ labels: '{' }), 'labels', 'buildLabels'),
      /invalid labels: not valid JSON/,
    );
  });
});
