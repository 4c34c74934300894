// Merging compose files: the spec's rules (mappings, sequences, shell commands, unique
// resources, !reset, !override) on canonical shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeModels } from '../../../src/compose/index.ts';
import { canonicalFile } from '../../../src/compose/shapes.ts';
import { parseComposeText } from '../../../src/compose/load.ts';

const file = (yaml: string) =>
  canonicalFile(parseComposeText('t.yaml', yaml).marked as Record<string, unknown>);
const merge = (...ys: string[]) =>
  ys.map(file).reduce((a, b) => mergeModels(a, b) as Record<string, unknown>, {});

test('mappings merge, scalars override, sequences append', () => {
  const m = merge(
    'services: {foo: {image: a, dns: [1.1.1.1], environment: {A: "1", B: "2"}}}',
    'services: {foo: {image: b, dns: [8.8.8.8, 1.1.1.1], environment: [B=3, C=4]}}',
  );
  assert.deepEqual(m, {
    services: { foo: { image: 'b', dns: ['1.1.1.1', '8.8.8.8'], environment: { A: '1', B: '3', C: '4' } } },
  });
});

test('command, entrypoint and healthcheck.test are replaced', () => {
  const m = merge(
    'services: {foo: {command: [echo, foo], entrypoint: sh, healthcheck: {test: [CMD, a], interval: 1s}}}',
    'services: {foo: {command: [echo, bar], healthcheck: {test: "b"}}}',
  ) as { services: { foo: Record<string, unknown> } };
  assert.deepEqual(m.services.foo.command, ['echo', 'bar']);
  assert.deepEqual(m.services.foo.healthcheck, { test: ['CMD-SHELL', 'b'], interval: '1s' });
});

test('volumes merge on target, ports on their unique key', () => {
  const m = merge(
    'services: {foo: {volumes: ["foo:/work", "/a:/a"], ports: ["8080:80", "9090:90"]}}',
    'services: {foo: {volumes: ["bar:/work"], ports: ["8080:80", "8081:80"]}}',
  ) as {
    services: { foo: { volumes: { source: string; target: string }[]; ports: { published: string }[] } };
  };
  assert.deepEqual(
    m.services.foo.volumes.map((v) => `${v.source}:${v.target}`),
    ['bar:/work', '/a:/a'],
  );
  assert.deepEqual(
    m.services.foo.ports.map((p) => p.published),
    ['8080', '9090', '8081'],
  );
});

test('!reset removes, !override replaces', () => {
  const m = merge(
    'services: {app: {image: myapp, ports: ["8080:80"], environment: {FOO: BAR, KEEP: k}}}',
    'services: {app: {ports: !reset [], environment: {FOO: !reset null}}}',
  );
  assert.deepEqual(m, { services: { app: { image: 'myapp', environment: { KEEP: 'k' } } } });
  const o = merge(
    'services: {app: {image: myapp, ports: ["8080:80"]}}',
    'services: {app: {ports: !override ["8443:443"]}}',
  ) as { services: { app: { ports: { target: number }[] } } };
  assert.deepEqual(
    o.services.app.ports.map((p) => p.target),
    [443],
  );
});

test('anchors, aliases and merge keys resolve before merging', () => {
  const m = merge('x-base: &b {image: a, tty: true}\nservices: {s: {<<: *b, image: c}}') as {
    services: { s: Record<string, unknown> };
  };
  assert.deepEqual(m.services.s, { image: 'c', tty: true });
});

test('keys like __proto__ are data', () => {
  const m = merge('services: {s: {image: a, labels: {__proto__: x}}}') as {
    services: { s: { labels: object } };
  };
  assert.deepEqual(Object.keys(m.services.s.labels), ['__proto__']);
  assert.equal(Object.getPrototypeOf(m.services.s.labels), Object.prototype);
});
