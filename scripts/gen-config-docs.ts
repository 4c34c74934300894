// Rewrites the daemon.json key table of docs/configuration.md from src/daemon/config-keys.ts.
// Run: node --import tsx scripts/gen-config-docs.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { configTable, TABLE_BEGIN, TABLE_END } from '../src/daemon/config-table.ts';

const file = 'docs/configuration.md';
const text = readFileSync(file, 'utf8');
const start = text.indexOf(TABLE_BEGIN);
const end = text.indexOf(TABLE_END);
if (start < 0 || end < start) throw new Error(`${file} has no generated table markers`);
writeFileSync(file, text.slice(0, start) + configTable() + text.slice(end + TABLE_END.length));
