// Go's fmt (Sprintf/Sprint/Sprintln), strconv float formatting and encoding/json output.
// Expected strings are what Go prints (checked through the docker CLI's printf).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFloat, goJson, goQuote, sprint, sprintf, sprintln } from '../../../src/cli/format/index.ts';

describe('sprintf', () => {
  it('formats integers', () => {
    assert.equal(
      sprintf('%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%c|%U|%q', 42, 42, 42, 42, 42, 255, 255, 8, 5, 65, 65, 65),
      "42|   42|42   |00042|+42|ff|FF|10|101|A|U+0041|'A'",
    );
    assert.equal(
      sprintf('%08d|%-8d|%+08d|%x|%#X|%#b|%O|%08.3d|%.0d|%5.0d|', -42, -42, 42, -255, 255, 5, 8, 7, 0, 0),
      '-0000042|-42     |+0000042|-ff|0XFF|0b101|0o10|     007||     |',
    );
    assert.equal(
      sprintf('%c|%c|%q|%q|%U|%#U|%#U', 65, 128512, 10, 39, 10, 233, 10),
      "A|😀|'\\n'|'\\''|U+000A|U+00E9 'é'|U+000A",
    );
    assert.equal(sprintf('%d', 12345678901234567890n), '12345678901234567890');
  });

  it('formats floats with exact, half-to-even rounding', () => {
    assert.equal(
      sprintf(
        '%6.2f|%e|%.0f|%.0f|%.0f|%g|%.3e|%10.4g|%-10.3v|',
        1.005,
        0.0,
        0.5,
        1.5,
        2.5,
        1e-5,
        123456.0,
        3.14259,
        3.14259,
      ),
      '  1.00|0.000000e+00|0|2|2|1e-05|1.235e+05|     3.143|3.14      |',
    );
    assert.equal(sprintf('%.2e|%.1f|%.1f|%.0f', 9.995, 0.05, 0.25, -0.5), '9.99e+00|0.1|0.2|-0');
    assert.equal(
      sprintf('%v|%g|%e|%f|%.3g|%G|%E', 1234567.5, 1234567.5, 1234567.5, 1234567.5, 1234567.5, 1e-7, 1e-7),
      '1.2345675e+06|1.2345675e+06|1.234568e+06|1234567.500000|1.23e+06|1E-07|1.000000E-07',
    );
    assert.equal(
      sprintf('%5.1f%%|%-8.3e|%+08.2f|% .3f|%x|%X', 99.44, 1234.5678, -3.14259, 2.0, 3.5, -0.1),
      ' 99.4%|1.235e+03|-0003.14| 2.000|0x1.cp+01|-0X1.999999999999AP-04',
    );
    assert.equal(
      sprintf('%g|%g|%g|%g|%G|%.2g|%.10g|%g', 0.1, 1e-4, 1e-5, 1234567.5, 1e21, 1234.5, 1.5, 100.5),
      '0.1|0.0001|1e-05|1.2345675e+06|1E+21|1.2e+03|1.5|100.5',
    );
    assert.equal(
      sprintf('%v|%.1f|%g|%v', 1e100, 1e21, 1e21, -1e-7),
      '1e+100|1000000000000000000000.0|1e+21|-1e-07',
    );
    assert.equal(sprintf('%6.2v|%.1v|%08v', 3.14259, 0.05, -1.5), '   3.1|0.05|-00001.5');
    assert.equal(
      sprintf('%v|%v|%v', Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN),
      '+Inf|-Inf|NaN',
    );
  });

  it('formats integral numbers as floats under float verbs', () => {
    assert.equal(sprintf('%.2f|%e|%g', 3, 0, 1e6), '3.00|0.000000e+00|1e+06');
  });

  it('formats strings', () => {
    assert.equal(
      sprintf(
        '%s|%10s|%-10s|%.2s|%q|%x|%X|% x|%v|%T',
        'héllo',
        'ab',
        'ab',
        'héllo',
        'a\tb"é\x01',
        'hi',
        'hi',
        'hi',
        's',
        's',
      ),
      'héllo|        ab|ab        |hé|"a\\tb\\"é\\x01"|6869|6869|68 69|s|string',
    );
    assert.equal(
      sprintf('%05s|%6.2q|%#q|%#q|%+q', 'ab', 'abc', 'ab', 'a`b', 'héllo😀'),
      '000ab|  "ab"|`ab`|"a`b"|"h\\u00e9llo\\U0001f600"',
    );
    assert.equal(
      sprintf('%x|% X|%#x|% #x|%10x|%-10x|%.1x', 'hi', 'hi', 'hi', 'hi', 'hi', 'hi', 'hi'),
      '6869|68 69|0x6869|0x68 0x69|      6869|6869      |68',
    );
  });

  it('formats lists and maps element by element', () => {
    assert.equal(
      sprintf('%v %s %d', ['a', 'b'], ['a', 'b'], ['a', 'b']),
      '[a b] [a b] [%!d(string=a) %!d(string=b)]',
    );
    assert.equal(sprintf('%5v|%q|%x', ['x', 'y'], ['a', 'b'], ['x', 'y']), '[    x     y]|["a" "b"]|[78 79]');
    assert.equal(sprintf('%s|%d', { a: 1, b: 'x' }, { a: 1 }), 'map[a:%!s(int=1) b:x]|map[%!d(string=a):1]');
    assert.equal(sprintf('%v', { b: [1, { c: null }], a: true }), 'map[a:true b:[1 map[c:<nil>]]]');
  });

  it('reports bad verbs, missing and extra arguments like Go', () => {
    assert.equal(sprintf('%s %d'), '%!s(MISSING) %!d(MISSING)');
    assert.equal(sprintf('%s', 'a', 3, true), 'a%!(EXTRA int=3, bool=true)');
    assert.equal(sprintf('%!'), '%!!(MISSING)');
    assert.equal(sprintf('%'), '%!(NOVERB)');
    assert.equal(sprintf('%z', 3), '%!z(int=3)');
    assert.equal(sprintf('%d|%s|%v', 1.5, 1.5, 1.5), '%!d(float64=1.5)|%!s(float64=1.5)|1.5');
    assert.equal(sprintf('%t|%s|%d', 1, true, 'x'), '%!t(int=1)|%!s(bool=true)|%!d(string=x)');
    assert.equal(sprintf('%s|%d|%v', null, null, null), '%!s(<nil>)|%!d(<nil>)|<nil>');
    assert.equal(
      sprintf('%T %T %T %T %T %T %T', 1, 1.5, 's', true, ['s'], [1], null),
      'int float64 string bool []string []interface {} <nil>',
    );
    assert.equal(sprintf('100%%'), '100%');
  });

  it('supports * and [n] argument indexes', () => {
    assert.equal(sprintf('%[3]d %[1]d %d', 1, 2, 3), '3 1 2');
    assert.equal(sprintf('%[5]d', 1), '%!d(BADINDEX)');
    assert.equal(sprintf('%*d|%-*d|%.*f', 4, 1, 4, 2, 2, 3.14259), '   1|2   |3.14');
    assert.equal(sprintf('%*d', 'x', 5), '%!(BADWIDTH)5');
    assert.equal(sprintf('%*d', -5, 1), '1    ');
  });
});

describe('sprint / sprintln', () => {
  it('adds spaces between operands when neither is a string', () => {
    assert.equal(sprint('a', 'b', 1, 2, 'c', 3, true), 'ab1 2c3 true');
    assert.equal(sprint(), '');
    assert.equal(sprint(null, undefined), '<nil> <nil>');
    assert.equal(sprintln('a', 1, 2), 'a 1 2\n');
  });

  it('prints floats the way %v does', () => {
    assert.equal(
      sprint(1234567.5, 0.0001, 0.00001, 1.5e20, 100000.5, 1e21),
      '1.2345675e+06 0.0001 1e-05 1.5e+20 100000.5 1e+21',
    );
  });
});

describe('formatFloat (strconv)', () => {
  it('handles %g precision boundaries', () => {
    assert.equal(formatFloat(999.999, 'g', 3), '1e+03');
    assert.equal(formatFloat(4.256, 'g', 3), '4.26');
    assert.equal(formatFloat(100, 'g', 3), '100');
    assert.equal(formatFloat(1.2, 'g', 3), '1.2');
    assert.equal(formatFloat(0, 'g', 3), '0');
    assert.equal(formatFloat(123456, 'g', -1), '123456');
    assert.equal(formatFloat(1234567, 'g', -1), '1.234567e+06');
    assert.equal(formatFloat(1, 'b', -1), '4503599627370496p-52');
    assert.equal(formatFloat(0, 'x', -1), '0x0p+00');
    assert.equal(formatFloat(1, 'x', 2), '0x1.00p+00');
  });
});

describe('goQuote', () => {
  it('quotes like strconv.Quote', () => {
    assert.equal(goQuote('a"b\\c\n\x7f\u00a0\u2028é😀'), '"a\\"b\\\\c\\n\\x7f\\u00a0\\u2028é😀"');
    assert.equal(goQuote('é', true), '"\\u00e9"');
  });
});

describe('goJson', () => {
  it('encodes like encoding/json', () => {
    assert.equal(
      goJson({ b: 1, a: [true, null, 'x'], c: undefined, f: () => 1 }),
      '{"b":1,"a":[true,null,"x"]}',
    );
    assert.equal(
      goJson(
        new Map([
          ['b', 1],
          ['a', 2],
        ]),
      ),
      '{"a":2,"b":1}',
    );
    assert.equal(
      goJson([1.5, 1e21, 1e-7, 1e20, -0, 0.000001]),
      '[1.5,1e+21,1e-7,100000000000000000000,-0,0.000001]',
    );
    assert.equal(goJson('<a&b>\u2028\b\f\x01\x7f\ud800'), '"<a&b>\\u2028\\b\\f\\u0001\x7f\\ufffd"');
    assert.equal(goJson('<a&b>', { escapeHTML: true }), '"\\u003ca\\u0026b\\u003e"');
    assert.equal(goJson(new Uint8Array([1, 2, 3])), '"AQID"');
    assert.equal(
      goJson({ a: [], b: {}, c: { d: [1, 2] } }, { indent: '    ' }),
      '{\n    "a": [],\n    "b": {},\n    "c": {\n        "d": [\n            1,\n            2\n        ]\n    }\n}',
    );
  });

  it('rejects what Go rejects', () => {
    assert.throws(() => goJson(Number.NaN), /unsupported value: NaN/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => goJson(cyclic), /cycle/);
  });
});
