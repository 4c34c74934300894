// go-units: HumanSize / HumanSizeWithPrecision, BytesSize, HumanDuration (expected strings are
// go-units' own test expectations, plus boundaries).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesSize, goG, humanDuration, humanSize, timeAgo } from '../../../src/cli/format/index.ts';

const KB = 1000;
const MB = 1000 * KB;
const GB = 1000 * MB;
const TB = 1000 * GB;
const PB = 1000 * TB;
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const PiB = 1024 * TiB;

describe('humanSize', () => {
  it('uses 3 significant digits by default, as docker tables do', () => {
    assert.equal(humanSize(4_256_000), '4.26MB');
    assert.equal(humanSize(1200), '1.2kB');
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(100), '100B');
    assert.equal(humanSize(999), '999B');
    assert.equal(humanSize(1000), '1kB');
    assert.equal(humanSize(1024), '1.02kB');
    assert.equal(humanSize(7_376_543), '7.38MB');
    assert.equal(humanSize(215_000_000), '215MB');
  });

  it('reproduces %.3g exponent notation at unit boundaries', () => {
    assert.equal(humanSize(999_499), '999kB');
    assert.equal(humanSize(999_500), '1e+03kB');
    assert.equal(humanSize(999_999), '1e+03kB');
    assert.equal(humanSize(1_000_000), '1MB');
  });

  it('matches go-units HumanSize at precision 4', () => {
    assert.equal(humanSize(1000, 4), '1kB');
    assert.equal(humanSize(1024, 4), '1.024kB');
    assert.equal(humanSize(1_000_000, 4), '1MB');
    assert.equal(humanSize(1_048_576, 4), '1.049MB');
    assert.equal(humanSize(2 * MB, 4), '2MB');
    assert.equal(humanSize(3.42 * GB, 4), '3.42GB');
    assert.equal(humanSize(5.372 * TB, 4), '5.372TB');
    assert.equal(humanSize(2.22 * PB, 4), '2.22PB');
    assert.equal(humanSize(10_000_000_000_000 * PB, 4), '1e+04YB');
  });
});

describe('bytesSize', () => {
  it('matches go-units BytesSize', () => {
    assert.equal(bytesSize(1024), '1KiB');
    assert.equal(bytesSize(1024 * 1024), '1MiB');
    assert.equal(bytesSize(2 * MiB), '2MiB');
    assert.equal(bytesSize(3.42 * GiB), '3.42GiB');
    assert.equal(bytesSize(5.372 * TiB), '5.372TiB');
    assert.equal(bytesSize(2.22 * PiB), '2.22PiB');
    assert.equal(bytesSize(1.5 * GiB), '1.5GiB');
    assert.equal(bytesSize(KiB * KiB * KiB * KiB * KiB * PiB), '1.049e+06YiB');
    assert.equal(bytesSize(0), '0B');
    assert.equal(bytesSize(1023), '1023B');
  });
});

describe('goG', () => {
  it('is Go %.Ng', () => {
    assert.equal(goG(999.999, 3), '1e+03');
    assert.equal(goG(0.000012345, 3), '1.23e-05');
    assert.equal(goG(0.00012345, 3), '0.000123');
    assert.equal(goG(2.5, 1), '2');
    assert.equal(goG(3.5, 1), '4');
  });
});

describe('humanDuration', () => {
  const s = 1000;
  const min = 60 * s;
  const h = 60 * min;
  const day = 24 * h;
  const week = 7 * day;
  const month = 30 * day;
  const year = 365 * day;
  const cases: [number, string][] = [
    [-5 * s, 'Less than a second'],
    [0, 'Less than a second'],
    [450, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * s, '1 second'],
    [1999, '1 second'],
    [2 * s, '2 seconds'],
    [45 * s, '45 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [2 * min, '2 minutes'],
    [35 * min + 40 * s, '35 minutes'],
    [59 * min, '59 minutes'],
    [1 * h, 'About an hour'],
    [1 * h + 29 * min, 'About an hour'],
    [1 * h + 31 * min, '2 hours'],
    [3 * h + 29 * min, '3 hours'],
    [3 * h + 31 * min, '4 hours'],
    [24 * h, '24 hours'],
    [1 * day + 12 * h, '36 hours'],
    [47 * h + 29 * min, '47 hours'],
    [2 * day, '2 days'],
    [13 * day + 5 * h, '13 days'],
    [2 * week, '2 weeks'],
    [2 * week + 4 * day, '2 weeks'],
    [4 * week + 3 * day, '4 weeks'],
    [1 * month, '4 weeks'],
    [1 * month + 2 * week, '6 weeks'],
    [2 * month, '2 months'],
    [3 * month + 1 * week, '3 months'],
    [5 * month + 2 * week, '5 months'],
    [13 * month, '13 months'],
    [24 * month, '24 months'],
    [24 * month + 2 * week, '2 years'],
    [3 * year + 2 * month, '3 years'],
  ];
  for (const [ms, want] of cases) {
    it(`${ms}ms → ${want}`, () => assert.equal(humanDuration(ms), want));
  }
});

describe('timeAgo', () => {
  it('appends "ago" to the duration since the time', () => {
    const now = Date.UTC(2024, 5, 1);
    assert.equal(timeAgo(now - 14 * 24 * 3600 * 1000, now), '2 weeks ago');
    assert.equal(timeAgo(new Date(now - 90_000), now), 'About a minute ago');
    assert.equal(timeAgo('2024-05-31T23:59:59.500Z', new Date(now)), 'Less than a second ago');
    assert.equal(timeAgo(now + 10_000, now), 'Less than a second ago');
  });
});
