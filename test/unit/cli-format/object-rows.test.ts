// docker's search, volume/network and history formatter pieces that no e2e test reaches: the
// search row (no registry to search on loopback), natural name order, Go's time strings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  goParsedTimeString,
  naturalCompare,
  renderList,
  SEARCH_HEADERS,
  SEARCH_TABLE_FORMAT,
  SearchRow,
} from '../../../src/cli/format/index.ts';

const result = {
  name: 'library/busybox',
  description: 'Busybox base image.\r\nWith a second line that makes it longer than forty-five cells',
  star_count: 3300,
  is_official: true,
};

describe('search rows', () => {
  test('descriptions lose line breaks and are cut at 45 cells; stars are strings; [OK] in tables', () => {
    const table = renderList({
      format: undefined,
      defaultTableFormat: SEARCH_TABLE_FORMAT,
      headers: SEARCH_HEADERS,
      rows: [new SearchRow(result, { trunc: true, json: false })],
    });
    assert.equal(
      table,
      'NAME              DESCRIPTION                                     STARS     OFFICIAL\n' +
        'library/busybox   Busybox base image.  With a second line that…   3300      [OK]\n',
    );
    const row = new SearchRow(result, { trunc: false, json: false });
    assert.equal(row.Description, `Busybox base image.  ${result.description.split('\r\n')[1]}`);
  });

  test('json rows print IsOfficial as "true"/"false" and StarCount as a string, as docker does', () => {
    const out = renderList({
      format: 'json',
      defaultTableFormat: SEARCH_TABLE_FORMAT,
      headers: SEARCH_HEADERS,
      rows: [new SearchRow({ ...result, is_official: false }, { trunc: true, json: true })],
    });
    const j = JSON.parse(out) as Record<string, string>;
    assert.equal(j.IsOfficial, 'false');
    assert.equal(j.StarCount, '3300');
  });
});

describe('natural order and Go time strings', () => {
  test('digit runs compare by value', () => {
    assert.deepEqual(['v10', 'v2', 'v1', 'a', 'v02'].sort(naturalCompare), ['a', 'v1', 'v2', 'v02', 'v10']);
    assert.deepEqual(['a-b', 'a1'].sort(naturalCompare), ['a1', 'a-b']);
  });

  test('a decoded RFC 3339 time keeps its zone and drops trailing zeros of the fraction', () => {
    assert.equal(goParsedTimeString('2026-12-07T17:28:38.502000Z'), '2026-12-07 17:28:38.502 +0000 UTC');
    assert.equal(goParsedTimeString('2026-12-07T17:28:38+01:00'), '2026-12-07 17:28:38 +0100 +0100');
  });
});
