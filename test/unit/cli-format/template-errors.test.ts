// Parse and execution errors carry docker's messages ("template parsing error: " + Go's error).
// Expected messages were checked against the docker CLI.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';
import { compileTemplate, TemplateError } from '../../../src/cli/format/index.ts';

function parseError(tpl: string): string {
  try {
    compileTemplate(tpl);
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    assert.ok(e instanceof InvalidArgumentError);
    assert.equal(e.kind, 'invalid-argument');
    assert.equal(e.code, 'TEMPLATE_PARSE_ERROR');
    assert.equal(e.message, `template parsing error: ${e.detail}`);
    return e.message;
  }
  assert.fail(`expected ${JSON.stringify(tpl)} not to parse`);
}

function execError(tpl: string, data: unknown = { Name: 't1', S: 'str', L: [1, 2, 3, 4] }): string {
  const t = compileTemplate(tpl);
  try {
    t.render(data);
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.code, 'TEMPLATE_EXEC_ERROR');
    return e.message;
  }
  assert.fail(`expected ${JSON.stringify(tpl)} to fail`);
}

describe('parse errors', () => {
  const cases: [string, string][] = [
    ['{{.Name', 'template: :1: unclosed action'],
    ['x\n{{.Name', 'template: :2: unclosed action'],
    ['{{.Name\n\n', 'template: :3: unclosed action started at :1'],
    ['{{if .Name}}x', 'template: :1: unexpected EOF'],
    ['x\n{{if .Name}}\ny', 'template: :3: unexpected EOF'],
    ['{{end}}', 'template: :1: unexpected {{end}}'],
    ['{{else}}', 'template: :1: unexpected {{else}}'],
    ['{{foo}}', 'template: :1: function "foo" not defined'],
    ['{{}}', 'template: :1: missing value for command'],
    ['{{ -}}', 'template: :1: missing value for command'],
    ['{{"abc}}', 'template: :1: unterminated quoted string'],
    ['{{`abc}}', 'template: :1: unterminated raw quoted string'],
    ["{{'a}}", 'template: :1: unterminated character constant'],
    ['{{$x}}', 'template: :1: undefined variable "$x"'],
    ['{{/* abc }}', 'template: :1: unclosed comment'],
    ['{{/* abc */ }}', 'template: :1: comment ends before closing delimiter'],
    ['{{/*c*/-}}', 'template: :1: comment ends before closing delimiter'],
    ['{{-/*c*/}}', 'template: :1: illegal number syntax: "-"'],
    ['{{#}}', 'template: :1: unexpected "#" in command'],
    ['a\n{{.Name}\n}}', "template: :2: bad character U+007D '}'"],
    ['{{.Name-}}', "template: :1: bad character U+002D '-'"],
    ['{{1-}}', 'template: :1: bad number syntax: "1-"'],
    ['{{0x}}', 'template: :1: illegal number syntax: "0x"'],
    ['{{08}}', 'template: :1: integer overflow: "08"'],
    ['{{99999999999999999999}}', 'template: :1: integer overflow: "99999999999999999999"'],
    ['{{range}}{{end}}', 'template: :1: missing value for range'],
    ['{{if}}{{end}}', 'template: :1: missing value for if'],
    ['{{.Name | 3}}', 'template: :1: non executable command in pipeline stage 2'],
    ['{{(.Name}}', 'template: :1: unclosed left paren'],
    ['{{.Name)}}', 'template: :1: unexpected right paren'],
    ['{{range $i, $e, $f := 1}}{{end}}', 'template: :1: too many declarations in range'],
    ['{{$a, $b := 1}}', 'template: :1: too many declarations in command'],
    ["{{'ab'}}", "template: :1: malformed character constant: 'ab'"],
    ["{{''}}", 'template: :1: invalid syntax'],
    ['{{"\\q"}}', 'template: :1: invalid syntax'],
    ['{{break}}', 'template: :1: {{break}} outside {{range}}'],
    ['{{continue}}', 'template: :1: {{continue}} outside {{range}}'],
    ['{{range .Name}}{{break 1}}{{end}}', 'template: :1: unexpected "1" in {{break}}'],
    ['{{if .Name}}a{{else}}b{{else}}c{{end}}', 'template: :1: expected end; found {{else}}'],
    ['{{else foo}}', 'template: :1: unexpected "foo" in else'],
    ['{{if .A}}a{{else with .B}}b{{end}}', 'template: :1: unexpected <with> in input'],
    ['{{"a".X}}', 'template: :1: unexpected . after term "\\"a\\""'],
    ['{{if .Name}}{{define "x"}}{{end}}{{end}}', 'template: :1: unexpected <define> in command'],
    ['{{define "a"}}{{else}}{{end}}', 'template: :1: unexpected {{else}} in define clause'],
  ];
  for (const [tpl, detail] of cases) {
    it(JSON.stringify(tpl), () => {
      assert.equal(parseError(tpl), `template parsing error: ${detail}`);
    });
  }
});

describe('execution errors', () => {
  const at = (pos: string, node: string, msg: string) =>
    `template parsing error: template: ${pos}: executing "" at <${node}>: ${msg}`;
  const cases: [string, string][] = [
    ['{{len 1 2}}', at(':1:2', 'len', 'wrong number of args for len: want 1 got 2')],
    ['{{not 1 2}}', at(':1:2', 'not', 'wrong number of args for not: want 1 got 2')],
    ['{{ne 1}}', at(':1:2', 'ne', 'wrong number of args for ne: want 2 got 1')],
    ['{{eq}}', at(':1:2', 'eq', 'wrong number of args for eq: want at least 1 got 0')],
    ['{{and 1 (and)}}', at(':1:9', 'and', 'wrong number of args for and: want at least 1 got 0')],
    ['{{len 3}}', at(':1:2', 'len 3', 'error calling len: len of type int')],
    ['{{index .Name 10}}', at(':1:2', 'index .Name 10', 'error calling index: index out of range: 10')],
    ['{{.Name.X}}', at(':1:7', '.Name.X', "can't evaluate field X in type string")],
    ['{{3 4}}', at(':1:2', '3', "can't give argument to non-function 3")],
    ['{{.Name 4}}', at(':1:2', '.Name', 'Name has arguments but cannot be invoked as function')],
    ['{{.S | .Name}}', at(':1:7', '.Name', 'Name has arguments but cannot be invoked as function')],
    ['{{$y = 1}}', at(':1:7', '1', 'undefined variable: $y')],
    ['{{nil}}', at(':1:2', 'nil', 'nil is not a command')],
    ['{{slice "abc" 1 5}}', at(':1:2', 'slice "abc" 1 5', 'error calling slice: index out of range: 5')],
    ['{{index .L 1 2}}', at(':1:2', 'index .L 1 2', "error calling index: can't index item of type int")],
    [
      'a\nb {{.Name}}\nc {{.S.X.Y | printf "%s"}}',
      at(':3:6', '.S.X.Y', "can't evaluate field X in type string"),
    ],
    ['é\nü {{len 3}}', at(':2:5', 'len 3', 'error calling len: len of type int')],
    ['{{range $x := .Name}}{{end}}', at(':1:14', '.Name', "range can't iterate over t1")],
  ];
  for (const [tpl, msg] of cases) {
    it(JSON.stringify(tpl), () => {
      assert.equal(execError(tpl), msg);
    });
  }

  it('keeps the output written before the failure out of render()', () => {
    assert.throws(() => compileTemplate('ok {{len 3}}').render({}), TemplateError);
  });
});
