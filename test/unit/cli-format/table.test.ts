// docker's tabwriter (minwidth 10, padding 3, spaces): cells are tab-terminated, the text after
// a line's last tab is never padded, and columns are sized per block of consecutive lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayWidth, formatTable, tabwrite } from '../../../src/cli/format/index.ts';

describe('formatTable', () => {
  it('matches docker images output', () => {
    const out = formatTable([
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
      ['busybox', 'latest', '0f1b8c5b2c46', '2 weeks ago', '4.26MB'],
      ['alpine', '3.19', 'ace17d5d883e', '3 months ago', '7.38MB'],
    ]);
    assert.equal(
      out,
      'REPOSITORY   TAG       IMAGE ID       CREATED        SIZE\n' +
        'busybox      latest    0f1b8c5b2c46   2 weeks ago    4.26MB\n' +
        'alpine       3.19      ace17d5d883e   3 months ago   7.38MB\n',
    );
    // Alone, "2 weeks ago" makes CREATED 11 + 3 = 14 wide.
    assert.equal(
      formatTable([
        ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
        ['busybox', 'latest', '0f1b8c5b2c46', '2 weeks ago', '4.26MB'],
      ]),
      'REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n' +
        'busybox      latest    0f1b8c5b2c46   2 weeks ago   4.26MB\n',
    );
  });

  it('sizes each column by its widest cell plus 3, at least 10', () => {
    const out = formatTable([
      ['NAME', 'DESCRIPTION', 'DOCKER ENDPOINT', 'ERROR'],
      ['a-very-long-context-name-here', 'wide 漢字 desc', 'tcp://1.2.3.4:2375', ''],
      ['default *', 'Current DOCKER_HOST based configuration', 'unix:///var/run/docker.sock', ''],
      ['mid', '<html> & stuff', 'unix:///a/b/c/d/e/f/g/h/i/j.sock', ''],
      ['t1', 'hello', 'unix:///x.sock', ''],
    ]);
    // `docker context ls` printed exactly this (CJK characters are two cells wide).
    assert.equal(
      out,
      [
        'NAME                            DESCRIPTION                               DOCKER ENDPOINT                    ERROR',
        'a-very-long-context-name-here   wide 漢字 desc                            tcp://1.2.3.4:2375                 ',
        'default *                       Current DOCKER_HOST based configuration   unix:///var/run/docker.sock        ',
        'mid                             <html> & stuff                            unix:///a/b/c/d/e/f/g/h/i/j.sock   ',
        't1                              hello                                     unix:///x.sock                     ',
        '',
      ].join('\n'),
    );
  });

  it('prints a header alone, and nothing for no rows', () => {
    assert.equal(formatTable([['ID', 'NAME']]), 'ID        NAME\n');
    assert.equal(formatTable([]), '');
  });
});

describe('tabwrite', () => {
  it('sizes column blocks separately', () => {
    const out = tabwrite('aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tccccccccccccc\teee\n');
    assert.equal(
      out,
      [
        'aaaa      bbb       d',
        'aa        b         dd',
        'a         ',
        'aa        ccccccccccccc   eee',
        '',
      ].join('\n'),
    );
  });

  it('lets a line without tabs end every column', () => {
    const out = tabwrite('a\tb\nlonglonglonglonglong\nccccccccccccccc\td\n');
    assert.equal(out, 'a         b\nlonglonglonglonglong\nccccccccccccccc   d\n');
  });

  it('does not pad the text after the last tab, even when wide', () => {
    assert.equal(
      tabwrite('x\ta-very-very-long-last-cell\nyy\tz\n'),
      'x         a-very-very-long-last-cell\nyy        z\n',
    );
  });

  it('handles unterminated input and empty cells', () => {
    assert.equal(tabwrite('a\tb'), 'a         b');
    assert.equal(tabwrite('a\t'), 'a');
    assert.equal(tabwrite('a\t\n'), 'a         \n');
    assert.equal(tabwrite('\t\tc\n'), '                    c\n');
    assert.equal(tabwrite(''), '');
    assert.equal(tabwrite('\n\n'), '\n\n');
  });

  it('counts display width, not code units', () => {
    assert.equal(tabwrite('漢字\tx\nab\ty\n'), '漢字      x\nab        y\n');
    assert.equal(tabwrite('e\u0301\tx\n😀\ty\n'), 'e\u0301         x\n😀        y\n');
    assert.equal(displayWidth('héllo'), 5);
    assert.equal(displayWidth('漢字'), 4);
    assert.equal(displayWidth('😀'), 2);
    assert.equal(displayWidth('e\u0301'), 1);
  });

  it('treats \\f as a line break that ends all columns', () => {
    assert.equal(tabwrite('a\tb\fcccccccccccc\td\n'), 'a         b\ncccccccccccc   d\n');
  });

  it('takes minwidth and padding options', () => {
    assert.equal(tabwrite('a\tb\nccc\td\n', { minWidth: 0, padding: 1 }), 'a   b\nccc d\n');
  });
});
