// .dockerignore parsing and matching, against the behaviour Docker documents (docs "Build
// context" → ".dockerignore files") and moby/patternmatcher's rules.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  dockerignoreFor,
  IgnoreMatcher,
  loadDockerignore,
  parseDockerignore,
} from '../../../src/build/context/dockerignore.ts';
import { cleanPath, globMatch } from '../../../src/build/context/glob.ts';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';

function ignored(patterns: string, paths: string[]): string[] {
  const m = new IgnoreMatcher(parseDockerignore(patterns));
  return paths.filter((p) => m.matches(p));
}

describe('parseDockerignore', () => {
  it('skips comments and blank lines, trims, drops a leading / and cleans paths', () => {
    const text = [
      '\uFEFF# a comment',
      '',
      '   ',
      '  *.log  \t',
      '/foo/bar',
      'a/../b',
      './c/',
      '/../x',
      '!  /keep/./me ',
      ' # not a comment (only column 1 starts one)',
      'd//e\r',
    ].join('\n');
    assert.deepEqual(parseDockerignore(text), [
      '*.log',
      'foo/bar',
      'b',
      'c',
      'x',
      '!keep/me',
      '# not a comment (only column 1 starts one)',
      'd/e',
    ]);
  });

  it('keeps .. that climbs above the root (it can match nothing) and a lone /', () => {
    assert.deepEqual(parseDockerignore('../up\n/\n'), ['../up', '/']);
  });
});

describe('IgnoreMatcher: Docker documented examples', () => {
  const paths = [
    'temp',
    'tempa',
    'tempb',
    'tempab',
    'somedir/temporary.txt',
    'somedir/temp',
    'somedir/temp/inner.txt',
    'somedir/subdir/temporary.txt',
    'somedir/subdir/x.txt',
    'a/b/c/temp',
  ];

  it('*/temp* excludes temp* in immediate subdirectories only', () => {
    assert.deepEqual(ignored('*/temp*', paths), [
      'somedir/temporary.txt',
      'somedir/temp',
      'somedir/temp/inner.txt',
    ]);
  });

  it('*/*/temp* excludes temp* two levels below the root', () => {
    assert.deepEqual(ignored('*/*/temp*', paths), ['somedir/subdir/temporary.txt']);
  });

  it('temp? excludes one-character extensions of temp at the root', () => {
    assert.deepEqual(ignored('temp?', paths), ['tempa', 'tempb']);
  });

  it('**/*.go matches at every depth, including the root', () => {
    assert.deepEqual(ignored('**/*.go', ['main.go', 'a/b/c.go', 'a/go', 'a.go.txt', 'go/x']), [
      'main.go',
      'a/b/c.go',
    ]);
  });

  it('!README.md after *.md re-includes it; * does not cross /', () => {
    assert.deepEqual(ignored('*.md\n!README.md', ['a.md', 'README.md', 'docs/a.md', 'x.txt']), ['a.md']);
  });

  it('the last matching line wins', () => {
    const files = ['README-secret.md', 'README-x.md', 'other.md'];
    assert.deepEqual(ignored('*.md\n!README*.md\nREADME-secret.md', files), ['README-secret.md', 'other.md']);
    assert.deepEqual(ignored('*.md\nREADME-secret.md\n!README*.md', files), ['other.md']);
  });

  it('a leading / is the same as none; patterns are relative to the context root', () => {
    assert.deepEqual(ignored('/foo/bar', ['foo/bar', 'x/foo/bar', 'foo/bar/z', 'foo']), [
      'foo/bar',
      'foo/bar/z',
    ]);
  });

  it('.. is cleaned lexically', () => {
    assert.deepEqual(ignored('a/../b\n./c/d/..', ['a', 'b', 'a/b', 'c', 'c/d', 'b/x']), [
      'b',
      'c',
      'c/d',
      'b/x',
    ]);
  });

  it('* then exceptions: include-list style', () => {
    assert.deepEqual(
      ignored('*\n!src\n!Dockerfile', ['src/a.ts', 'src', 'Dockerfile', 'node_modules/x', 'x']),
      ['node_modules/x', 'x'],
    );
  });
});

describe('IgnoreMatcher: directories and exceptions', () => {
  it('a pattern matching a directory excludes everything below it', () => {
    const m = new IgnoreMatcher(['node_modules']);
    assert.equal(m.matches('node_modules'), true);
    assert.equal(m.matches('node_modules/a/b/c.js'), true);
    assert.equal(m.matches('src/node_modules'), false);
    assert.equal(m.mayContainExceptions('node_modules'), false);
  });

  it('an exception inside an excluded directory re-includes it and makes the walker descend', () => {
    const m = new IgnoreMatcher(parseDockerignore('dir\n!dir/keep'));
    assert.equal(m.matches('dir'), true);
    assert.equal(m.matches('dir/other'), true);
    assert.equal(m.matches('dir/keep'), false);
    assert.equal(m.matches('dir/keep/sub/file'), false);
    assert.equal(m.mayContainExceptions('dir'), true);
    assert.equal(m.mayContainExceptions('other'), false);
    assert.equal(m.mayContainExceptions('dir/other'), false);
  });

  it('wildcard exceptions make the walker descend where they could match', () => {
    const m = new IgnoreMatcher(parseDockerignore('*/\n!*/keep\n!deep/**/x'));
    assert.equal(m.mayContainExceptions('a'), true);
    assert.equal(m.mayContainExceptions('a/b'), false);
    assert.equal(m.mayContainExceptions('deep/1/2/3'), true);
    assert.equal(m.matches('a/keep'), false);
    assert.equal(m.matches('a/drop'), true);
  });

  it('a later pattern re-excludes below an exception', () => {
    const m = new IgnoreMatcher(parseDockerignore('*\n!a\na/b'));
    assert.deepEqual(
      ['a', 'a/x', 'a/b', 'a/b/c', 'z'].map((p) => m.matches(p)),
      [false, false, true, true, true],
    );
  });

  it('never ignores the context root itself', () => {
    const m = new IgnoreMatcher(['*', '**']);
    assert.equal(m.matches('.'), false);
    assert.equal(m.matches(''), false);
    assert.equal(m.matches('x'), true);
  });
});

describe('IgnoreMatcher: pattern syntax', () => {
  it('classes, ranges, negation and escapes follow filepath.Match', () => {
    assert.deepEqual(ignored('file[0-9].txt', ['file1.txt', 'filex.txt', 'file10.txt']), ['file1.txt']);
    assert.deepEqual(ignored('[^a]bc', ['abc', 'xbc', '/bc']), ['xbc']);
    assert.deepEqual(ignored('\\*.txt', ['*.txt', 'a.txt']), ['*.txt']);
    assert.deepEqual(ignored('a.b', ['a.b', 'axb']), ['a.b']);
    assert.deepEqual(ignored('x+(y)', ['x+(y)', 'xx(y)']), ['x+(y)']);
  });

  it('** forms: trailing, leading and in the middle', () => {
    assert.deepEqual(ignored('foo/**', ['foo', 'foo/a', 'foo/a/b', 'foobar']), ['foo/a', 'foo/a/b']);
    assert.deepEqual(ignored('**/foo', ['foo', 'a/foo', 'a/b/foo/c', 'xfoo']), ['foo', 'a/foo', 'a/b/foo/c']);
    assert.deepEqual(ignored('a/**/b', ['a/b', 'a/x/b', 'a/x/y/b', 'a/xb']), ['a/b', 'a/x/b', 'a/x/y/b']);
    // Docker compares a leading-** literal pattern as a plain suffix.
    assert.deepEqual(ignored('**foo', ['xfoo', 'a/foo', 'foox']), ['xfoo', 'a/foo']);
  });

  it('malformed patterns fail with an InvalidArgumentError naming the pattern', () => {
    for (const bad of ['[', 'a[]', '[z-', 'x\\', '[a-]']) {
      assert.throws(
        () => new IgnoreMatcher([bad]),
        (err: unknown) => err instanceof InvalidArgumentError && err.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
    assert.throws(() => new IgnoreMatcher(['!']), /illegal exclusion pattern/);
  });
});

describe('glob helpers', () => {
  it('cleanPath is Go filepath.Clean', () => {
    const cases: [string, string][] = [
      ['', '.'],
      ['./', '.'],
      ['a/', 'a'],
      ['//a//b/', '/a/b'],
      ['/..', '/'],
      ['../a', '../a'],
      ['a/../../b', '../b'],
      ['a/./b/../c', 'a/c'],
    ];
    for (const [input, want] of cases) assert.equal(cleanPath(input), want, input);
  });

  it('globMatch is filepath.Match', () => {
    assert.equal(globMatch('*.go', 'a.go'), true);
    assert.equal(globMatch('*.go', 'd/a.go'), false);
    assert.equal(globMatch('a?c', 'abc'), true);
    assert.equal(globMatch('a?c', 'a/c'), false);
    assert.equal(globMatch('[a-c]x', 'bx'), true);
    assert.equal(globMatch('[\\]]', ']'), true);
    assert.equal(globMatch('[^a-c]x', 'bx'), false);
    assert.equal(globMatch('*/b', 'a/b'), true);
  });
});

describe('dockerignoreFor / loadDockerignore', () => {
  it('prefers <Dockerfile>.dockerignore next to the Dockerfile, then .dockerignore at the root', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ignore-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.mkdirSync(path.join(dir, 'build'));
    assert.deepEqual(dockerignoreFor('build/app.Dockerfile', dir), [
      path.join(dir, 'build/app.Dockerfile.dockerignore'),
      path.join(dir, '.dockerignore'),
    ]);
    assert.equal(await loadDockerignore('build/app.Dockerfile', dir), undefined);
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'root-rule\n');
    assert.deepEqual(await loadDockerignore('build/app.Dockerfile', dir), {
      file: path.join(dir, '.dockerignore'),
      patterns: ['root-rule'],
    });
    fs.writeFileSync(path.join(dir, 'build/app.Dockerfile.dockerignore'), '# own\nown-rule\n');
    assert.deepEqual(await loadDockerignore('build/app.Dockerfile', dir), {
      file: path.join(dir, 'build/app.Dockerfile.dockerignore'),
      patterns: ['own-rule'],
    });
  });

  it('inRoot: follows links inside the context only, and reads only regular files', async (t) => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ignore-'));
    t.after(() => fs.rmSync(top, { recursive: true, force: true }));
    const dir = path.join(top, 'ctx');
    fs.mkdirSync(dir);
    const host = path.join(top, 'host-ignore');
    fs.writeFileSync(host, 'host-rule\n');
    fs.symlinkSync(host, path.join(dir, '.dockerignore'));
    // Resolved as <ctx><host>: missing, so there is no ignore file (Docker's daemon alike).
    assert.equal(await loadDockerignore('Dockerfile', dir, { inRoot: true }), undefined);
    // The CLI reads the user's own tree: it follows the link, as the docker CLI does.
    assert.deepEqual((await loadDockerignore('Dockerfile', dir))?.patterns, ['host-rule']);
    fs.unlinkSync(path.join(dir, '.dockerignore'));
    fs.symlinkSync('../../../host-ignore', path.join(dir, '.dockerignore'));
    assert.equal(await loadDockerignore('Dockerfile', dir, { inRoot: true }), undefined);
    // An in-scope target is read: `/rules` means <ctx>/rules.
    fs.writeFileSync(path.join(dir, 'rules'), 'ctx-rule\n');
    fs.unlinkSync(path.join(dir, '.dockerignore'));
    fs.symlinkSync('/rules', path.join(dir, '.dockerignore'));
    assert.deepEqual(await loadDockerignore('Dockerfile', dir, { inRoot: true }), {
      file: path.join(dir, '.dockerignore'),
      patterns: ['ctx-rule'],
    });
    // A FIFO (which would block a reader forever) or a directory is refused, naming the file.
    fs.unlinkSync(path.join(dir, '.dockerignore'));
    execFileSync('mkfifo', [path.join(dir, '.dockerignore')]);
    for (const inRoot of [true, false]) {
      await assert.rejects(
        loadDockerignore('Dockerfile', dir, { inRoot }),
        (err: unknown) =>
          err instanceof InvalidArgumentError && /\.dockerignore.*not a regular file/.test(err.message),
      );
    }
    fs.unlinkSync(path.join(dir, '.dockerignore'));
    fs.mkdirSync(path.join(dir, '.dockerignore'));
    await assert.rejects(loadDockerignore('Dockerfile', dir, { inRoot: true }), /not a regular file/);
    // A Dockerfile outside the context has no ignore file of its own inside it.
    fs.rmdirSync(path.join(dir, '.dockerignore'));
    fs.writeFileSync(path.join(top, 'Dockerfile.dockerignore'), 'outside-rule\n');
    assert.equal(await loadDockerignore('../Dockerfile', dir, { inRoot: true }), undefined);
  });
});
