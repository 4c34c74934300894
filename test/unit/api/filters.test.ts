// The filters table and parser (src/api/filters.ts): Docker's two JSON shapes, its 400 messages
// for unknown keys and bad values, and the bounds on what one request can ask for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FILTERS,
  type FilterSpec,
  labelsMatch,
  MAX_FILTER_VALUES,
  parseFiltersJson,
  parseTimestamp,
} from '../../../src/api/filters.ts';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';

const parse = (v: unknown, spec: FilterSpec = FILTERS.containerList) =>
  parseFiltersJson(JSON.stringify(v), spec);
const rejects = (v: unknown, message: string | RegExp, spec: FilterSpec = FILTERS.containerList) =>
  assert.throws(
    () => (typeof v === 'string' ? parseFiltersJson(v, spec) : parse(v, spec)),
    (err: unknown) =>
      err instanceof InvalidArgumentError &&
      (typeof message === 'string' ? err.message === message : message.test(err.message)),
  );

describe('parseFiltersJson', () => {
  it('reads both shapes, and the legacy one keeps every key whatever its boolean', () => {
    assert.deepEqual([...parse({ status: ['running', 'exited'] })], [['status', ['running', 'exited']]]);
    assert.deepEqual(
      [...parse({ status: { running: true, exited: false } })],
      [['status', ['running', 'exited']]],
    );
  });
  it('treats absent, empty, null and empty-list filters as none', () => {
    assert.equal(parseFiltersJson(null, FILTERS.containerList).size, 0);
    assert.equal(parseFiltersJson('', FILTERS.containerList).size, 0);
    assert.equal(parse(null).size, 0);
    assert.equal(parse({ status: [] }).size, 0);
  });
  it("answers Docker's messages for unknown keys and bad values", () => {
    rejects({ bogus: ['1'] }, "invalid filter 'bogus'");
    rejects({ status: ['bogus'] }, "invalid filter 'status=bogus'");
    rejects({ exited: ['abc'] }, "invalid filter 'exited=abc'");
    rejects({ health: ['sick'] }, "invalid filter 'health=sick'");
    rejects({ 'is-task': ['yes'] }, "invalid filter 'is-task=yes'");
    rejects({ dangling: ['maybe'] }, "invalid filter 'dangling=maybe'", FILTERS.imageList);
    rejects({ dangling: ['true', 'false'] }, "invalid filter 'dangling=true,false'", FILTERS.imageList);
    rejects({ type: ['bogus'] }, "invalid filter 'type=bogus'", FILTERS.networkList);
    rejects({ until: ['soon'] }, /^invalid filter 'until=soon'/, FILTERS.containerPrune);
    rejects({ publish: ['70000'] }, "invalid filter 'publish=70000'");
    rejects({ expose: ['90-80/tcp'] }, "invalid filter 'expose=90-80/tcp'");
  });
  it('accepts what Docker accepts', () => {
    parse({ exited: ['0', '137'], 'is-task': ['false'], publish: ['80', '8000-8080/udp'], health: ['none'] });
    parse({ dangling: ['TRUE'] }, FILTERS.imageList);
    parse({ dangling: ['1'] }, FILTERS.volumeList);
    parse(
      { until: ['10m', '1h30m', '1700000000', '2024-01-02T15:04:05Z', '2024-01-02'] },
      FILTERS.networkPrune,
    );
  });
  it('refuses malformed JSON and wrong value types as 400s', () => {
    for (const raw of [
      '{',
      '[1]',
      '"x"',
      '{"name":[1]}',
      '{"name":"x"}',
      '{"name":{"x":"yes"}}',
      '{"name":[null]}',
    ])
      rejects(raw, /^invalid filters /);
  });
  it('bounds the size of one request', () => {
    rejects(
      { id: Array.from({ length: MAX_FILTER_VALUES + 1 }, (_, i) => String(i)) },
      /more than 256 values/,
    );
    rejects(`{"id":["${'x'.repeat(70_000)}"]}`, /longer than/);
  });
});

describe('parseTimestamp and labels', () => {
  it('reads durations, Unix seconds and dates', () => {
    assert.equal(parseTimestamp('10m', 1_000_000), 1_000_000 - 600_000);
    assert.equal(parseTimestamp('1700000000.5'), 1_700_000_000_500);
    assert.equal(parseTimestamp('2024-01-02T00:00:00Z'), Date.UTC(2024, 0, 2));
    assert.equal(parseTimestamp('yesterday'), undefined);
  });
  it('label= must all hold and label!= none', () => {
    const f = new Map([
      ['label', ['a', 'b=2']],
      ['label!', ['c']],
    ]);
    assert.equal(labelsMatch({ a: '', b: '2' }, f), true);
    assert.equal(labelsMatch({ a: '', b: '3' }, f), false);
    assert.equal(labelsMatch({ a: '', b: '2', c: 'x' }, f), false);
  });
});
