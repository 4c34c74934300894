import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  familiarString,
  formatReference,
  parseReference,
  withDefaultTag,
} from '../../../src/oci/reference.ts';

const norm = (s: string) => formatReference(withDefaultTag(parseReference(s)));

describe('reference normalisation (docker semantics)', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['user/app', 'docker.io/user/app:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/user/app:v1', 'docker.io/user/app:v1'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/ns/app:tag', 'localhost:5000/ns/app:tag'],
    ['registry.example.com/a/b/c', 'registry.example.com/a/b/c:latest'],
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
    ['my-app_x.y__z', 'docker.io/library/my-app_x.y__z:latest'],
    [`app@sha256:${'a'.repeat(64)}`, `docker.io/library/app@sha256:${'a'.repeat(64)}`],
    [`app:v1@sha256:${'b'.repeat(64)}`, `docker.io/library/app:v1@sha256:${'b'.repeat(64)}`],
  ];
  for (const [input, want] of cases) test(input, () => assert.equal(norm(input), want));

  test('familiar forms', () => {
    assert.equal(
      familiarString(withDefaultTag(parseReference('docker.io/library/busybox'))),
      'busybox:latest',
    );
    assert.equal(familiarString(parseReference('docker.io/user/app:1')), 'user/app:1');
    assert.equal(familiarString(parseReference('localhost:5000/app:1')), 'localhost:5000/app:1');
  });

  const invalid: [string, RegExp][] = [
    ['', /invalid reference format/],
    ['Busybox', /must be lowercase/],
    ['a:b:c', /invalid reference format/],
    ['app:', /invalid reference format/],
    ['-app', /invalid reference format/],
    ['app//x', /invalid reference format/],
    ['app@sha256:abc', /invalid reference format/],
    [`app@sha512:${'c'.repeat(128)}`, /unsupported digest algorithm/],
    ['a'.repeat(64), /cannot specify 64-byte hexadecimal strings/],
    [`app:${'t'.repeat(129)}`, /invalid reference format/],
    [`${'a'.repeat(250)}/b`, /must not be more than 255 characters/],
  ];
  for (const [input, re] of invalid) {
    test(`rejects ${JSON.stringify(input.slice(0, 40))}`, () =>
      assert.throws(() => parseReference(input), re));
  }
});
