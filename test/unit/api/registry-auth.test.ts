// X-Registry-Auth is a client's JSON like any body: `null`, a list or a string decode to "no
// credentials" (Go's zero AuthConfig) and never crash the handler.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registryAuth } from '../../../src/api/router/images/pull.ts';

const header = (json: string) => ({ 'x-registry-auth': Buffer.from(json).toString('base64url') });

test('non-object JSON is anonymous, an object gives its string fields', () => {
  for (const j of ['null', '[]', '"x"', '5', 'true']) assert.equal(registryAuth(header(j)), undefined, j);
  assert.deepEqual(registryAuth(header('{"username":"u","password":"p","email":7}')), {
    username: 'u',
    password: 'p',
  });
  assert.throws(() => registryAuth(header('{')), /not base64url-encoded JSON/);
});
