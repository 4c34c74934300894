// docs/configuration.md lists every daemon.json key berthd honours, as the code says it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CONFIG_KEYS } from '../../../src/daemon/config-keys.ts';
import { configTable, TABLE_BEGIN, TABLE_END } from '../../../src/daemon/config-table.ts';

const doc = readFileSync(path.join(import.meta.dirname, '../../../docs/configuration.md'), 'utf8');

test('the key table in docs/configuration.md is the one the code generates', () => {
  const start = doc.indexOf(TABLE_BEGIN);
  const end = doc.indexOf(TABLE_END);
  assert.ok(start >= 0 && end > start, 'the generated table markers are in docs/configuration.md');
  assert.equal(
    doc.slice(start, end + TABLE_END.length),
    configTable(),
    'docs/configuration.md is out of date: run node --import tsx scripts/gen-config-docs.ts',
  );
});

test('every honoured key has a row', () => {
  for (const key of Object.keys(CONFIG_KEYS)) {
    assert.match(doc, new RegExp(`^\\| \`${key}\` \\|`, 'm'), key);
  }
});
