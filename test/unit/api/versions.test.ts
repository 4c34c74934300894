import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  adaptCreateBody,
  API_VERSION,
  apiHas,
  compareVersions,
  fieldRules,
  MIN_API_VERSION,
  shapeFor,
} from '../../../src/api/versions/index.ts';

describe('version ranges', () => {
  test('compare as major.minor numbers, not strings', () => {
    assert.ok(compareVersions('1.9', '1.10') < 0);
    assert.ok(compareVersions('1.50', '1.44') > 0);
    assert.equal(compareVersions('1.41', '1.41'), 0);
  });

  test('a since/until pair: since included, until excluded', () => {
    assert.equal(apiHas('1.41', 'multiplexedContentType'), false);
    assert.equal(apiHas('1.42', 'multiplexedContentType'), true);
    assert.equal(apiHas('1.44', 'aliasesWithShortId'), true);
    assert.equal(apiHas('1.45', 'aliasesWithShortId'), false);
  });

  test('every rule names versions inside the served range', () => {
    for (const r of fieldRules()) {
      for (const v of [r.since, r.until]) {
        if (v === undefined) continue;
        assert.ok(compareVersions(v, MIN_API_VERSION) >= 0 && compareVersions(v, API_VERSION) <= 0, r.path);
      }
    }
  });
});

describe('shapeFor', () => {
  test('removes fields outside their range and leaves the input untouched', () => {
    const shared = { Hostname: '', Cmd: ['sh'] };
    const view = { Id: 'x', VirtualSize: 1, Container: '', ContainerConfig: {}, Config: shared };
    const v50 = shapeFor('imageInspect', view, '1.50') as Record<string, unknown>;
    assert.deepEqual(v50, { Id: 'x', Config: { Cmd: ['sh'] } });
    assert.deepEqual(shared, { Hostname: '', Cmd: ['sh'] }, 'a record shared with the view is not changed');
    assert.deepEqual(shapeFor('imageInspect', view, '1.44'), {
      Id: 'x',
      Container: '',
      ContainerConfig: {},
      Config: shared,
    });
    assert.deepEqual(shapeFor('imageInspect', view, '1.43'), view);
  });

  test('wildcards reach every endpoint; onlyWhenEmpty keeps a value that is set', () => {
    const view = {
      HostConfig: { KernelMemory: 0, KernelMemoryTCP: 5 },
      NetworkSettings: {
        Networks: { a: { DNSNames: ['x'], GwPriority: 0 }, b: { DNSNames: null, GwPriority: 0 } },
      },
    };
    const v43 = shapeFor('containerInspect', view, '1.43');
    assert.deepEqual(v43.NetworkSettings.Networks, { a: {}, b: {} });
    assert.deepEqual(v43.HostConfig, { KernelMemoryTCP: 5 });
    assert.deepEqual(shapeFor('containerInspect', view, '1.41').HostConfig, view.HostConfig);
    assert.deepEqual(shapeFor('containerInspect', view, '1.48').NetworkSettings, view.NetworkSettings);
  });
});

describe('adaptCreateBody', () => {
  const parts = (config: Record<string, unknown>, hostConfig: Record<string, unknown>, endpoints = {}) => ({
    config,
    hostConfig,
    endpoints: endpoints as Record<string, Record<string, unknown> | null>,
  });

  test('fields a version did not have are dropped', () => {
    const p = parts(
      { Healthcheck: { Test: ['NONE'], StartInterval: 5 } },
      { KernelMemory: 1, ConsoleSize: [1, 2], Annotations: { a: 'b' }, AutoRemove: true },
    );
    adaptCreateBody('1.24', p);
    assert.deepEqual(p.hostConfig, { KernelMemory: 1, IpcMode: 'shareable' });
    assert.deepEqual(p.config, { Healthcheck: { Test: ['NONE'] } });
    const q = parts({ Healthcheck: { StartInterval: 5 } }, { KernelMemory: 1 });
    adaptCreateBody('1.44', q);
    assert.deepEqual(q.hostConfig, {});
    assert.deepEqual(q.config, { Healthcheck: { StartInterval: 5 } });
  });

  test('extra endpoints are split off from 1.44; the MAC moves to the endpoint with a warning', () => {
    const p = parts(
      { MacAddress: '02:00:00:00:00:01' },
      { NetworkMode: 'a' },
      { a: {}, b: { Aliases: ['x'] } },
    );
    const r = adaptCreateBody('1.44', p);
    assert.deepEqual(r.extraEndpoints, [['b', { Aliases: ['x'] }]]);
    assert.deepEqual(p.endpoints, { a: { MacAddress: '02:00:00:00:00:01' } });
    assert.deepEqual(p.config, {});
    assert.equal(r.warnings.length, 1);
    const old = parts({}, { NetworkMode: 'a' }, { a: { MacAddress: '02:00:00:00:00:01' } });
    assert.deepEqual(adaptCreateBody('1.43', old).extraEndpoints, []);
    assert.deepEqual(old.endpoints, { a: {} });
  });

  test('fields that need a newer version are refused with the version named', () => {
    const sub = parts({}, { Mounts: [{ Type: 'volume', VolumeOptions: { Subpath: 'x' } }] });
    assert.throws(() => adaptCreateBody('1.44', sub), /VolumeOptions.Subpath needs API v1.45 or newer/);
    const opts = parts({}, { Mounts: [{ Type: 'bind', VolumeOptions: {} }] });
    assert.throws(
      () => adaptCreateBody('1.42', opts),
      /VolumeOptions must not be specified on mount type "bind"/,
    );
    const lax = parts({}, { Mounts: [{ Type: 'bind', VolumeOptions: {} }] });
    adaptCreateBody('1.41', lax);
    assert.deepEqual(lax.hostConfig.Mounts, [{ Type: 'bind' }]);
  });
});
