// getOwn/setOwn: maps keyed by user text see only their own keys, whatever the key's name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getOwn, setOwn } from '../../../src/base/own.ts';

const PROTO_NAMES = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf', '__defineGetter__'];

test('getOwn never returns what the prototype has', () => {
  const m: Record<string, string> = { a: '1' };
  for (const k of PROTO_NAMES) assert.equal(getOwn(m, k), undefined, k);
  assert.equal(getOwn(m, 'a'), '1');
  assert.equal(getOwn(undefined, 'a'), undefined);
  // JSON.parse makes "__proto__" an own key: it is found as one.
  const parsed = JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>;
  assert.equal(getOwn(parsed, '__proto__'), 'p');
  assert.equal(getOwn(parsed, 'constructor'), 'c');
});

test('setOwn stores every name as an own key and leaves prototypes alone', () => {
  const m: Record<string, string> = {};
  for (const k of PROTO_NAMES) setOwn(m, k, `v-${k}`);
  assert.equal(Object.getPrototypeOf(m), Object.prototype);
  assert.deepEqual(Object.keys(m).sort(), [...PROTO_NAMES].sort());
  for (const k of PROTO_NAMES) assert.equal(getOwn(m, k), `v-${k}`);
  assert.deepEqual(JSON.parse(JSON.stringify(m)), Object.fromEntries(PROTO_NAMES.map((k) => [k, `v-${k}`])));
  assert.equal(({} as Record<string, unknown>).toString, Object.prototype.toString);
  setOwn(m, 'a', '1');
  setOwn(m, 'a', '2');
  assert.equal(m.a, '2');
});
