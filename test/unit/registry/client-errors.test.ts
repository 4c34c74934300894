// How the registry client reports a registry's refusals, against a scripted registry on
// loopback: pulls get not-found ("pull access denied", HTTP 404 at the API), pushes forbidden,
// and only a login gets unauthorized (the one kind that becomes a daemon 401). Mounts that the
// registry refuses or answers with 202 come back false so the caller uploads.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { statusOf } from '../../../src/api/errors.ts';
import { sha256Digest } from '../../../src/oci/digest.ts';
import { parseReference } from '../../../src/oci/reference.ts';
import { RegistryClient } from '../../../src/registry/index.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
const seen: string[] = [];
let server: http.Server;
let host: string;

before(async () => {
  server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
after(() => {
  server.close();
  server.closeAllConnections();
});

const refuse =
  (status: number, code: string, challenge?: string): Handler =>
  (_req, res) => {
    res.writeHead(status, {
      'Content-Type': 'application/json',
      ...(challenge ? { 'WWW-Authenticate': challenge } : {}),
    });
    res.end(JSON.stringify({ errors: [{ code, message: 'requested access to the resource is denied' }] }));
  };

async function rejection(p: Promise<unknown>): Promise<Error & { kind?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { kind?: string };
  }
  throw new Error('expected a rejection');
}

describe('registry refusals', () => {
  for (const [what, h] of [
    ['401 with a Basic challenge', refuse(401, 'UNAUTHORIZED', 'Basic realm="r"')],
    ['403 DENIED', refuse(403, 'DENIED')],
  ] as const) {
    it(`${what} on a pull is not-found: pull access denied`, async () => {
      handler = h;
      const s = new RegistryClient().repository(parseReference(`${host}/priv/app:1`));
      const err = await rejection(s.manifest('1'));
      assert.equal(err.kind, 'not-found');
      assert.equal(statusOf(err), 404);
      assert.match(
        err.message,
        new RegExp(
          `^pull access denied for ${host}/priv/app, repository does not exist or may require 'docker login': `,
        ),
      );
    });
  }

  it('a token service that refuses is the same pull access denied', async () => {
    handler = (req, res) => {
      if (req.url?.startsWith('/token')) return refuse(401, 'UNAUTHORIZED')(req, res);
      refuse(401, 'UNAUTHORIZED', `Bearer realm="http://${host}/token",service="${host}"`)(req, res);
    };
    const s = new RegistryClient().repository(parseReference(`${host}/priv/app:1`), {
      username: 'u',
      password: 'p',
    });
    const err = await rejection(s.manifest('1'));
    assert.equal(statusOf(err), 404);
    assert.match(err.message, /pull access denied .*token service .* refused the credentials/);
  });

  it('on a push it is forbidden: push access denied', async () => {
    handler = refuse(401, 'UNAUTHORIZED', 'Basic realm="r"');
    const p = new RegistryClient().pushTo(parseReference(`${host}/priv/app:1`));
    const err = await rejection(p.hasBlob(sha256Digest(Buffer.from('x'))));
    assert.equal(err.kind, 'forbidden');
    assert.match(err.message, /^push access denied for/);
  });

  it('only a login is unauthorized (401)', async () => {
    handler = (req, res) => {
      if (req.url?.startsWith('/token')) return refuse(401, 'UNAUTHORIZED')(req, res);
      refuse(401, 'UNAUTHORIZED', `Bearer realm="http://${host}/token",service="${host}"`)(req, res);
    };
    const err = await rejection(new RegistryClient().login(host, { username: 'u', password: 'bad' }));
    assert.equal(err.kind, 'unauthorized');
    assert.equal(statusOf(err), 401);
    assert.match(err.message, /incorrect username or password/);
  });
});

describe('cross-repository mounts', () => {
  const digest = sha256Digest(Buffer.from('layer'));
  it('asks for pull on the source in the token scope; 201 is mounted', async () => {
    const scopes: string[] = [];
    handler = (req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/token') {
        scopes.push(...u.searchParams.getAll('scope'));
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ token: 't', expires_in: 300 }));
      }
      if (req.headers.authorization !== 'Bearer t')
        return refuse(401, 'UNAUTHORIZED', `Bearer realm="http://${host}/token",service="${host}"`)(req, res);
      res.writeHead(201, { Location: `/v2/b/app/blobs/${digest}` });
      res.end();
    };
    const p = new RegistryClient().pushTo(parseReference(`${host}/b/app:1`), {
      username: 'u',
      password: 'p',
    });
    assert.equal(await p.mount(digest, 'a/app'), true);
    assert.deepEqual(scopes, ['repository:b/app:pull,push', 'repository:a/app:pull']);
  });
  it('a 202 (the registry started an upload instead) is not mounted, and that upload is cancelled', async () => {
    seen.length = 0;
    handler = (req, res) => {
      if (req.method === 'POST') {
        res.writeHead(202, { Location: '/v2/b/app/blobs/uploads/u1' });
        return res.end();
      }
      res.writeHead(204);
      res.end();
    };
    const p = new RegistryClient().pushTo(parseReference(`${host}/b/app:1`));
    assert.equal(await p.mount(digest, 'a/app'), false);
    assert.ok(seen.includes('DELETE /v2/b/app/blobs/uploads/u1'), seen.join('\n'));
  });
  it('a refused mount (401 after a new token) is not mounted, not an error', async () => {
    handler = refuse(401, 'DENIED', 'Basic realm="r"');
    const p = new RegistryClient().pushTo(parseReference(`${host}/b/app:1`));
    assert.equal(await p.mount(digest, 'a/app'), false);
  });
});
