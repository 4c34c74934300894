// docker's ps formatter pieces: DisplayablePorts grouping, Ellipsis by terminal cells, the row's
// truncation rules and its json form.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ContainerRow, displayablePorts, ellipsis, renderList } from '../../../src/cli/format/index.ts';

describe('displayablePorts', () => {
  test('groups contiguous ports per IP and protocol, host mappings last', () => {
    assert.equal(
      displayablePorts([
        { IP: '0.0.0.0', PrivatePort: 8081, PublicPort: 8081, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 8080, PublicPort: 8080, Type: 'tcp' },
        { PrivatePort: 53, Type: 'udp' },
        { IP: '::', PrivatePort: 80, PublicPort: 9090, Type: 'tcp' },
        { IP: '127.0.0.1', PrivatePort: 22, PublicPort: 2222, Type: 'tcp' },
      ]),
      '53/udp, 0.0.0.0:8080-8081->8080-8081/tcp, 127.0.0.1:2222->22/tcp, [::]:9090->80/tcp',
    );
    assert.equal(displayablePorts([]), '');
  });
});

describe('ellipsis', () => {
  test('cuts by terminal cells, wide characters counting two', () => {
    assert.equal(ellipsis('abcdef', 4), 'abc…');
    assert.equal(ellipsis('abcd', 4), 'abcd');
    assert.equal(ellipsis('日本語テキスト', 6), '日本…');
  });
});

describe('ContainerRow', () => {
  const c = {
    Id: 'a'.repeat(64),
    Names: ['/web', '/other/alias'],
    Image: 'docker.io/library/nginx:1@sha256:' + 'b'.repeat(64),
    Command: 'sh -c "sleep 1000 && echo done"',
    Created: 0,
    Labels: { b: '2', a: '1' },
    Mounts: [{ Name: 'averyveryverylongvolumename', Driver: 'local' }, { Source: '/host' }],
  };
  test('truncates like docker and keeps everything with --no-trunc', () => {
    const t = new ContainerRow(c, { trunc: true, now: 0 });
    assert.equal(t.ID, 'aaaaaaaaaaaa');
    assert.equal(t.Names, 'web');
    assert.equal(t.Image, 'nginx:1');
    assert.equal(t.Command, '"sh -c \\"sleep 1000 &…"');
    assert.equal(t.Labels, 'a=1,b=2');
    assert.equal(t.Label('b'), '2');
    assert.equal(t.Mounts, 'averyveryveryl…,/host');
    assert.equal(t.LocalVolumes, '1');
    const f = new ContainerRow(c, { trunc: false, now: 0 });
    assert.equal(f.Names, 'web,other/alias');
    assert.equal(f.Image, c.Image);
  });
  test('json rows hold the fields, not the Label method', () => {
    const out = renderList({
      format: 'json',
      defaultTableFormat: '',
      headers: {},
      rows: [new ContainerRow(c, { trunc: true, now: 0 })],
    });
    const j = JSON.parse(out) as Record<string, unknown>;
    assert.equal(j.Labels, 'a=1,b=2');
    assert.equal(j.Label, undefined);
    assert.equal(j.Command, '"sh -c \\"sleep 1000 &…"');
  });
});
