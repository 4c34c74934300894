// The Dockerfile parser on tricky inputs (each with the structure it must give) and every error
// with its message and line; Docker's word expansion.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DockerfileSyntaxError,
  expandWord,
  expandWords,
  parseDockerfile,
  parseInstruction,
  variablesIn,
} from '../../../src/build/dockerfile/index.ts';

function one(text: string) {
  const df = parseDockerfile(`FROM busybox\n${text}`);
  assert.equal(df.stages[0]!.instructions.length, 1, 'one instruction');
  return df.stages[0]!.instructions[0]!;
}

function fails(text: string, line: number, message: RegExp): void {
  assert.throws(
    () => parseDockerfile(text),
    (err: unknown) => {
      assert.ok(err instanceof DockerfileSyntaxError, String(err));
      assert.equal(err.line, line);
      assert.match(err.message, message);
      assert.match(err.message, new RegExp(`^Dockerfile:${line}: `));
      return true;
    },
  );
}

describe('parseDockerfile', () => {
  it('directives, comments, case-insensitive keywords, stages', () => {
    const df = parseDockerfile(
      '# syntax=docker/dockerfile:1\n# check=skip=JSONArgsRecommended\n# a comment\nARG V=1\nfrom busybox As Build\nrun echo hi\nFROM build\n',
    );
    assert.equal(df.directives.syntax, 'docker/dockerfile:1');
    assert.equal(df.directives.check, 'skip=JSONArgsRecommended');
    assert.equal(df.directives.escape, '\\');
    assert.deepEqual(df.metaArgs[0]!.args, [{ name: 'V', default: '1' }]);
    assert.equal(df.stages.length, 2);
    assert.equal(df.stages[0]!.name, 'build');
    assert.equal(df.stages[0]!.from.image, 'busybox');
    assert.equal(df.stages[0]!.instructions[0]!.kind, 'RUN');
    assert.equal(df.stages[1]!.from.image, 'build');
    assert.equal(df.stages[1]!.index, 1);
  });

  it('continuations, comments and empty lines inside them, the backtick escape', () => {
    const r = one('RUN echo a \\\n  # comment inside\n  && echo b \\\n\n  && echo c\n');
    assert.equal(r.kind, 'RUN');
    assert.deepEqual(r.kind === 'RUN' && r.command, {
      form: 'shell',
      text: 'echo a   && echo b   && echo c',
    });
    assert.deepEqual([r.range.start.line, r.range.end.line], [2, 6]);
    const df = parseDockerfile('FROM busybox\nRUN a \\\n\n  b\n');
    assert.equal(df.warnings[0]!.rule, 'NoEmptyContinuation');
    const bt = parseDockerfile('# escape=`\nFROM busybox\nRUN dir c:\\ `\n  && echo done\n');
    assert.equal(bt.directives.escape, '`');
    const run = bt.stages[0]!.instructions[0]!;
    assert.deepEqual(run.kind === 'RUN' && run.command, { form: 'shell', text: 'dir c:\\   && echo done' });
  });

  it('exec and shell forms; invalid JSON falls back to shell form; SHELL needs JSON', () => {
    assert.deepEqual((one('CMD ["a", "b c"]') as { command: unknown }).command, {
      form: 'exec',
      args: ['a', 'b c'],
    });
    assert.deepEqual((one("CMD ['a']") as { command: unknown }).command, { form: 'shell', text: "['a']" });
    assert.deepEqual((one('ENTRYPOINT ["x", 1]') as { command: unknown }).command, {
      form: 'shell',
      text: '["x", 1]',
    });
    assert.deepEqual((one('SHELL ["/bin/bash", "-c"]') as { shell: unknown }).shell, ['/bin/bash', '-c']);
  });

  it('ENV, LABEL (both syntaxes), ARG forms', () => {
    const env = one('ENV A=1 B="two words" C=\\$x');
    assert.deepEqual(env.kind === 'ENV' && [env.pairs, env.legacy], [
      [
        { key: 'A', value: '1' },
        { key: 'B', value: '"two words"' },
        { key: 'C', value: '\\$x' },
      ],
      false,
    ]);
    const legacy = one('ENV NAME some value here');
    assert.deepEqual(legacy.kind === 'ENV' && [legacy.pairs, legacy.legacy], [
      [{ key: 'NAME', value: 'some value here' }],
      true,
    ]);
    const label = one('LABEL "com.example.x"="v 1" b=2');
    assert.deepEqual(label.kind === 'LABEL' && label.pairs, [
      { key: '"com.example.x"', value: '"v 1"' },
      { key: 'b', value: '2' },
    ]);
    const arg = one('ARG A B=2 C=');
    assert.deepEqual(arg.kind === 'ARG' && arg.args, [
      { name: 'A' },
      { name: 'B', default: '2' },
      { name: 'C', default: '' },
    ]);
  });

  it('flags on instructions', () => {
    const c = one('COPY --from=build --chown=1:2 --chmod=644 --link --exclude=*.md a b /dst/');
    assert.deepEqual(c.flags, [
      { name: 'from', value: 'build' },
      { name: 'chown', value: '1:2' },
      { name: 'chmod', value: '644' },
      { name: 'link' },
      { name: 'exclude', value: '*.md' },
    ]);
    assert.deepEqual(c.kind === 'COPY' && [c.sources, c.dest], [['a', 'b'], '/dst/']);
    const r = one('RUN --mount=type=cache,target=/root/.cache --network=none make');
    assert.deepEqual(r.flags, [
      { name: 'mount', value: 'type=cache,target=/root/.cache' },
      { name: 'network', value: 'none' },
    ]);
    const json = one('COPY ["a b", "/d st/"]');
    assert.deepEqual(json.kind === 'COPY' && [json.sources, json.dest], [['a b'], '/d st/']);
    const f = parseDockerfile('FROM --platform=$BUILDPLATFORM busybox AS b\n').stages[0]!.from;
    assert.equal(f.platform, '$BUILDPLATFORM');
  });

  it('heredocs: RUN, <<-, quoted delimiters, several on one line, COPY', () => {
    const r = one('RUN <<EOF\necho a\necho b\nEOF');
    assert.deepEqual(r.heredocs, [
      { name: 'EOF', content: 'echo a\necho b\n', expand: true, stripTabs: false },
    ]);
    assert.deepEqual(r.range.end.line, 5);
    const tabs = one('RUN <<-EOT\n\techo a\n\tEOT');
    assert.deepEqual(tabs.heredocs[0], { name: 'EOT', content: 'echo a\n', expand: true, stripTabs: true });
    const q = one("RUN <<'EOF' cat\n$HOME\nEOF");
    assert.equal(q.heredocs[0]!.expand, false);
    const two = one('RUN <<A cat && cat <<"B"\na\nA\nb\nB');
    assert.deepEqual(
      two.heredocs.map((h) => [h.name, h.content, h.expand]),
      [
        ['A', 'a\n', true],
        ['B', 'b\n', false],
      ],
    );
    const cp = one('COPY <<one <<two /dir/\n1\none\n2\ntwo');
    assert.deepEqual(cp.kind === 'COPY' && cp.sources, ['<<one', '<<two']);
    assert.deepEqual(
      cp.heredocs.map((h) => h.content),
      ['1\n', '2\n'],
    );
    const notHeredoc = one('RUN echo "<<EOF"');
    assert.deepEqual(notHeredoc.heredocs, []);
  });

  it('ONBUILD, HEALTHCHECK, MAINTAINER, and parseInstruction for triggers', () => {
    const o = one('ONBUILD RUN echo hi');
    assert.equal(o.kind === 'ONBUILD' && o.trigger, 'RUN echo hi');
    const h = one('HEALTHCHECK --interval=5s --retries=3 CMD ["true"]');
    assert.deepEqual(h.kind === 'HEALTHCHECK' && [h.command, h.flags], [
      { form: 'exec', args: ['true'] },
      [
        { name: 'interval', value: '5s' },
        { name: 'retries', value: '3' },
      ],
    ]);
    const none = one('HEALTHCHECK NONE');
    assert.equal(none.kind === 'HEALTHCHECK' && none.command, undefined);
    assert.equal((one('MAINTAINER me <me@x>') as { name: string }).name, 'me <me@x>');
    assert.equal(parseInstruction('copy a /b').kind, 'COPY');
  });

  it('errors name the line and what is wrong', () => {
    fails('FROM busybox\nRUN true\n\nRUNN echo\n', 4, /unknown instruction: RUNN \(did you mean RUN\?\)/);
    fails('FROM busybox\nRUN <<EOF\necho never ends\n', 2, /unterminated heredoc.*"EOF"/);
    fails('FROM busybox\nSHELL /bin/sh -c\n', 2, /SHELL requires the arguments to be in JSON form/);
    fails('FROM busybox\nCOPY --bogus=1 a /a\n', 2, /unknown flag: --bogus for COPY/);
    fails('FROM busybox\nCMD --x\n', 2, /unknown flag: --x for CMD \(it takes no flags\)/);
    fails('RUN true\nFROM busybox\n', 1, /RUN cannot come before the first FROM/);
    fails(
      'FROM busybox AS a\nFROM busybox AS A\n',
      2,
      /duplicate stage name "a" \(first defined on line 1\)/,
    );
    fails('FROM busybox AS 1bad\n', 1, /invalid name for build stage: "1bad"/);
    fails('FROM busybox\nCOPY onlyone\n', 2, /COPY requires at least two arguments/);
    fails('ARG X=1\n', 1, /no build stage/);
    fails('\n# only comments\n', 1, /empty/);
    fails('FROM busybox\nONBUILD FROM x\n', 2, /FROM isn't allowed as an ONBUILD trigger/);
    fails('FROM busybox\nHEALTHCHECK --interval=1s NONE\n', 2, /NONE takes no other arguments/);
    fails('FROM busybox\nENV ONLYKEY\n', 2, /ENV must have two arguments/);
    fails('# escape=x\nFROM busybox\n', 1, /invalid escape token/);
    fails('FROM a b c d\n', 1, /FROM requires either one argument, or three/);
  });
});

describe('expandWord / expandWords', () => {
  const vars: Record<string, string> = { A: 'x', EMPTY: '', SP: 'a b' };
  const lookup = (n: string) => vars[n];
  it('forms of substitution', () => {
    assert.equal(expandWord('$A-${A}', lookup), 'x-x');
    assert.equal(expandWord('${MISSING:-def}', lookup), 'def');
    assert.equal(expandWord('${EMPTY:-def}', lookup), 'def');
    assert.equal(expandWord('${EMPTY-def}', lookup), '');
    assert.equal(expandWord('${A:+set}', lookup), 'set');
    assert.equal(expandWord('${MISSING:+set}', lookup), '');
    assert.equal(expandWord('${MISSING:-${A}y}', lookup), 'xy');
    assert.equal(expandWord('$MISSING', lookup), '');
    assert.throws(() => expandWord('${MISSING:?must be set}', lookup), /MISSING: must be set/);
  });
  it('quotes and escapes', () => {
    assert.equal(expandWord("'$A'", lookup), '$A');
    assert.equal(expandWord('"$A b"', lookup), 'x b');
    assert.equal(expandWord('\\$A', lookup), '$A');
    assert.equal(expandWord('"a\\"b"', lookup), 'a"b');
    assert.equal(expandWord('`$A', lookup, '`'), '$A');
    assert.equal(expandWord('c:\\dir', lookup, '`'), 'c:\\dir');
    assert.throws(() => expandWord('"open', lookup), /double-quote/);
  });
  it('word splitting after expansion, and the variables a word names', () => {
    assert.deepEqual(expandWords('80 $SP "c d"', lookup), ['80', 'a', 'b', 'c d']);
    assert.deepEqual(variablesIn('${A:-$B} $C'), ['A', 'B', 'C']);
  });
});

describe('expansion bounds (hostile Dockerfiles)', () => {
  it('refuses substitutions nested deeper than 32, quickly and without a stack overflow', () => {
    const n = 20_000;
    const word = `${'${a:-'.repeat(n)}z${'}'.repeat(n)}`;
    const t = performance.now();
    assert.throws(() => expandWord(word, () => undefined), /nested more than 32 deep/);
    assert.ok(performance.now() - t < 500, `took ${performance.now() - t} ms`);
    // 32 levels are fine.
    assert.equal(
      expandWord(`${'${a:-'.repeat(32)}z${'}'.repeat(32)}`, () => undefined),
      'z',
    );
  });

  it('refuses a word that expands past 1 MiB instead of building a huge string', () => {
    const vars = new Map([['a', 'x'.repeat(100_000)]]);
    const lookup = (k: string) => vars.get(k);
    assert.equal(expandWord('$a$a$a$a$a$a$a$a$a$a', lookup).length, 1_000_000);
    assert.throws(() => expandWord('$a'.repeat(11), lookup), /expands to more than 1048576 bytes/);
    assert.throws(() => expandWords('"$a$a$a$a$a$a$a$a$a$a$a"', lookup), /expands to more than/);
  });
});
