// Docker's legacy history wording: Go's %q / %v / Duration formatting, reproduced for
// `docker history` (the expected strings are what Docker 20.10's builder wrote).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  copyText,
  goDuration,
  goList,
  goQuote,
  goQuoteList,
  goQuoteRune,
  healthcheckText,
  nopInlineText,
  nopText,
  runText,
} from '../../../src/build/history-text.ts';

describe('history text', () => {
  it('Go durations', () => {
    assert.equal(goDuration(0), '0s');
    assert.equal(goDuration(5e9), '5s');
    assert.equal(goDuration(1.5e9), '1.5s');
    assert.equal(goDuration(500e6), '500ms');
    assert.equal(goDuration(90e9), '1m30s');
    assert.equal(goDuration(3600e9), '1h0m0s');
    assert.equal(goDuration(1500), '1.5µs');
    assert.equal(goDuration(7), '7ns');
  });
  it('Go %q of strings, lists and runes', () => {
    assert.equal(goQuote('a"b\\c\n\t'), '"a\\"b\\\\c\\n\\t"');
    assert.equal(goQuote('日本 x'), '"日本 x"');
    assert.equal(goQuote('\x01\x7f'), '"\\x01\\x7f"');
    assert.equal(goQuote('\u200b'), '"\\u200b"');
    assert.equal(goQuoteList(['cat', '/one']), '["cat" "/one"]');
    assert.equal(goList(['/bin/sh', '-c']), '[/bin/sh -c]');
    assert.equal(goQuoteRune(0), "'\\x00'");
    assert.equal(goQuoteRune(3), "'\\x03'");
    assert.equal(goQuoteRune(10), "'\\n'");
    assert.equal(goQuoteRune(65), "'A'");
    assert.equal(goQuoteRune(39), "'\\''");
  });
  it('step texts', () => {
    assert.equal(nopText(undefined, 'CMD ["sh"]'), '/bin/sh -c #(nop)  CMD ["sh"]');
    assert.equal(nopText(['/bin/ash', '-c'], 'USER x'), '/bin/ash -c #(nop)  USER x');
    assert.equal(nopInlineText(undefined, 'WORKDIR /w'), '/bin/sh -c #(nop) WORKDIR /w');
    assert.equal(runText(['A=1'], ['/bin/sh', '-c', 'make']), '|1 A=1 /bin/sh -c make');
    assert.equal(runText([], ['echo', 'hi']), 'echo hi');
    assert.equal(
      copyText({ kind: 'COPY', sourceKind: 'file', checksum: 'sha256:ab', dest: '/x', chown: '1:2' }),
      'COPY --chown=1:2file:ab in /x ',
    );
    assert.equal(
      healthcheckText({
        Test: ['CMD', 'true'],
        Interval: 90e9,
        Timeout: 5e8,
        StartPeriod: 1.5e9,
        Retries: 3,
      }),
      `HEALTHCHECK &{["CMD" "true"] "1m30s" "500ms" "1.5s" '\\x03'}`,
    );
    assert.equal(healthcheckText({ Test: ['NONE'] }), `HEALTHCHECK &{["NONE"] "0s" "0s" "0s" '\\x00'}`);
  });
});
