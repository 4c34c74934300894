// Go text/template semantics. Expected strings were checked against the docker CLI (Go 1.24's
// text/template plus docker's functions) rendering the same templates over the same data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTemplate, TemplateError } from '../../../src/cli/format/index.ts';

const D = {
  s: 'str',
  n: 3,
  f: 1.5,
  big: 1e21,
  b: true,
  l: [1, 'a', [2, 3], { k: 'v' }],
  m: { b: 2, a: 1 },
  e: '',
  el: [],
  em: {},
  lt: '<a&b>',
  sl: ['x', 'y', 'z'],
  z: null,
};

function r(tpl: string, data: unknown = D): string {
  return compileTemplate(tpl).render(data);
}

describe('text and actions', () => {
  it('renders plain text and fields', () => {
    assert.equal(r('hello'), 'hello');
    assert.equal(r(''), '');
    assert.equal(r('{{.s}}-{{.n}}'), 'str-3');
    assert.equal(r('{{.m.a}}'), '1');
    assert.equal(r('{{.}}', 'x'), 'x');
    assert.equal(r('{{$.s}}'), 'str');
  });

  it('walks field chains through nested objects and Maps', () => {
    const data = { A: { B: { C: 'deep' } }, M: new Map([['k', { V: 7 }]]) };
    assert.equal(r('{{.A.B.C}}', data), 'deep');
    assert.equal(r('{{.M.k.V}}', data), '7');
    assert.equal(r('{{(index .M "k").V}}', data), '7');
  });

  it('renders missing fields as <no value> and nil as <nil>', () => {
    assert.equal(r('{{.missing}}'), '<no value>');
    assert.equal(r('{{.missing.x.y}}'), '<no value>');
    assert.equal(r('{{.z}}'), '<nil>');
    assert.equal(
      r('{{print .missing}}|{{printf "%v" .missing}}|{{.missing | printf "%v"}}'),
      '<nil>|<nil>|<nil>',
    );
    assert.equal(r('{{$x := .missing}}{{$x}}'), '<no value>');
  });

  it('fails on fields of non-objects and of nil', () => {
    assert.throws(
      () => r('{{.s.x}}'),
      (e: unknown) =>
        e instanceof TemplateError &&
        e.message ===
          'template parsing error: template: :1:4: executing "" at <.s.x>: can\'t evaluate field x in type string',
    );
    assert.throws(() => r('{{.z.x}}'), /at <\.z\.x>: nil pointer evaluating interface \{\}\.x$/);
    assert.throws(() => r('{{.sl.x}}'), /can't evaluate field x in type \[\]string$/);
  });

  it('calls function-valued fields as methods, with arguments', () => {
    class Row {
      constructor(private readonly labels: Record<string, string>) {}
      get ID() {
        return 'abc';
      }
      Label(name: string) {
        return this.labels[name] ?? '';
      }
    }
    const row = new Row({ 'com.example.role': 'web' });
    assert.equal(r('{{.ID}} {{.Label "com.example.role"}} [{{.Label "nope"}}]', row), 'abc web []');
    assert.equal(r('{{"com.example.role" | .Label}}', row), 'web');
    assert.throws(() => r('{{.ID 1}}', row), /ID has arguments but cannot be invoked as function$/);
    const failing = {
      Boom() {
        throw new Error('kaput');
      },
    };
    assert.throws(() => r('{{.Boom}}', failing), /at <\.Boom>: error calling Boom: kaput$/);
  });
});

describe('trim markers and comments', () => {
  it('trims whitespace next to {{- and -}}', () => {
    assert.equal(r('a  {{- .s -}}  b'), 'astrb');
    assert.equal(r('{{.s}}\n  {{- .s -}}\n  z'), 'strstrz');
    assert.equal(r('{{ 1 -}} \n x'), '1x');
    assert.equal(r('{{-3}}|{{- 3}}'), '-3|3');
  });

  it('drops comments, with or without trim markers', () => {
    assert.equal(r('{{.s}}{{- /* c */ -}}  {{.s}}'), 'strstr');
    assert.equal(r('a{{/* multi\nline */}}b'), 'ab');
    assert.equal(r('{{- /* c */}}'), '');
  });
});

describe('range', () => {
  it('iterates lists with and without variables', () => {
    assert.equal(r('{{range .sl}}{{.}},{{end}}'), 'x,y,z,');
    assert.equal(r('{{range $v := .sl}}{{$v}}{{end}}'), 'xyz');
    assert.equal(r('{{range $i, $v := .sl}}{{$i}}={{$v}} {{end}}'), '0=x 1=y 2=z ');
    assert.equal(r('{{range $i, $e := split "a,b" ","}}{{$i}}{{$e}}{{end}}'), '0a1b');
  });

  it('iterates maps in sorted key order', () => {
    assert.equal(r('{{range .m}}{{.}},{{end}}'), '1,2,');
    assert.equal(r('{{range $k, $v := .m}}{{$k}}={{$v}},{{end}}'), 'a=1,b=2,');
    const m = new Map<string | number, string>([
      [10, 'ten'],
      [2, 'two'],
    ]);
    assert.equal(r('{{range $k, $v := .}}{{$k}}:{{$v}} {{end}}', m), '2:two 10:ten ');
  });

  it('runs else for empty or nil collections', () => {
    assert.equal(r('{{range .el}}x{{else}}empty{{end}}'), 'empty');
    assert.equal(r('{{range .em}}x{{else}}empty{{end}}'), 'empty');
    assert.equal(r('{{range .missing}}a{{else}}b{{end}}'), 'b');
    assert.equal(r('{{range .z}}a{{else}}b{{end}}'), 'b');
  });

  it('iterates integers (Go 1.22)', () => {
    assert.equal(r('{{range 3}}{{.}}{{end}}'), '012');
    assert.equal(r('{{range 0}}x{{else}}none{{end}}'), 'none');
    assert.throws(
      () => r('{{range $i, $e := 3}}{{end}}'),
      /can't use 3 to iterate over more than one variable$/,
    );
  });

  it('supports break and continue', () => {
    assert.equal(
      r('{{range $i, $v := .l}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 3}}{{break}}{{end}}{{$v}}{{end}}'),
      '1[2 3]',
    );
  });

  it('keeps $ as the root inside range', () => {
    assert.equal(r('{{range .sl}}{{$.s}}{{end}}'), 'strstrstr');
  });

  it('refuses what cannot be ranged over', () => {
    assert.throws(() => r('{{range .s}}{{end}}'), /at <\.s>: range can't iterate over str$/);
    assert.throws(() => r('{{range true}}{{end}}'), /at <true>: range can't iterate over true$/);
    assert.throws(() => r('{{range 2.5}}{{end}}'), /range can't iterate over 2\.5$/);
  });
});

describe('if, with, variables', () => {
  it('uses Go truthiness', () => {
    const truth = (x: string) => r(`{{if ${x}}}T{{else}}F{{end}}`);
    assert.equal(
      ['.e', '.el', '.em', '.z', '.missing', '0', '0.0', 'false', '.s', '.n', '.l', '.m', 'true', '1']
        .map(truth)
        .join(''),
      'FFFFFFFFTTTTTT',
    );
  });

  it('chains else if', () => {
    assert.equal(r('{{if 0}}a{{else if 1}}b{{else}}c{{end}}'), 'b');
    assert.equal(r('{{if 0}}a{{else if 0}}b{{else}}c{{end}}'), 'c');
  });

  it('rebinds dot in with, and supports else with', () => {
    assert.equal(r('{{with .m}}{{.a}}{{end}}'), '1');
    assert.equal(r('{{with .missing}}x{{else}}y{{end}}'), 'y');
    assert.equal(r('{{with $x := 3}}{{$x}}{{end}}'), '3');
    assert.equal(r('{{with .e}}x{{else with .n}}{{.}}{{end}}'), '3');
  });

  it('declares, assigns and scopes variables like Go', () => {
    assert.equal(r('{{$x := 1}}{{$x = 2}}{{$x}}'), '2');
    assert.equal(r('{{$x := 1}}{{if true}}{{$x = 2}}{{$x := 3}}{{end}}{{$x}}'), '2');
    assert.equal(r('{{$x := "a"}}{{range .sl}}{{$x = .}}{{end}}{{$x}}'), 'z');
    assert.equal(r('{{$x := 1}}{{$x := 2}}{{$x}}'), '2');
  });
});

describe('pipelines and literals', () => {
  it('passes the previous result as the last argument', () => {
    assert.equal(r('{{.s | upper}}'), 'STR');
    assert.equal(r('{{1 | printf "%v%v" 2 | printf "%v-%v" 3}}'), '3-21');
    assert.equal(r('{{.s | printf "%s" | len}}'), '3');
  });

  it('evaluates parenthesised sub-expressions and chains on them', () => {
    assert.equal(r('{{(index .l 3).k}}|{{(split "a,b" ",") | len}}|{{len (index .l 2)}}'), 'v|2|2');
    assert.equal(r('{{printf "%s" (printf "%d" 3)}}'), '3');
  });

  it('parses string, raw string, char, number, bool and nil literals', () => {
    assert.equal(r('{{ "a\\nb\\t\\x41\\u00e9\\101\\U0001F600" }}'), 'a\nb\tAéA😀');
    assert.equal(r('{{`raw\\n`}}'), 'raw\\n');
    assert.equal(r("{{'a'}}|{{'\\n'}}|{{'é'}}"), '97|10|233');
    assert.equal(
      r('{{0x1F}} {{1_000}} {{0o17}} {{0b11}} {{1e3}} {{.5}} {{017}} {{-0x10}} {{+3}}'),
      '31 1000 15 3 1000 0.5 15 -16 3',
    );
    assert.equal(r('{{true}}|{{false}}|{{1.5}}|{{-2}}|{{print nil}}'), 'true|false|1.5|-2|<nil>');
  });
});

describe('builtin functions', () => {
  it('and/or return an operand and short-circuit', () => {
    assert.equal(
      r('{{and 1 0 3}}|{{and 1 2}}|{{or 0 "" "x"}}|{{or 0 ""}}|{{not 0}}|{{not .l}}'),
      '0|2|x||true|false',
    );
    assert.equal(r('{{and 0 (len 3)}}'), '0'); // len 3 would fail if evaluated
    assert.equal(r('{{"x" | and 1}}|{{"x" | or 1}}|{{0 | or 0}}'), 'x|1|0');
  });

  it('compares like Go', () => {
    assert.equal(
      r(
        '{{eq 1 1}}|{{eq "a" "b" "a"}}|{{ne 1 2}}|{{lt 1 2}}|{{le 2 2}}|{{gt "b" "a"}}|{{ge 2 2}}|{{lt "B" "a"}}',
      ),
      'true|true|true|true|true|true|true|true',
    );
    assert.equal(
      r('{{eq .missing 1}}|{{eq .z nil}}|{{ne .s nil}}|{{eq .b true}}|{{lt 1 2.5}}'),
      'false|true|true|true|true',
    );
    assert.throws(
      () => r('{{eq 1 "a"}}'),
      /at <eq 1 "a">: error calling eq: incompatible types for comparison$/,
    );
    assert.throws(() => r('{{lt true false}}'), /error calling lt: invalid type for comparison$/);
    assert.throws(() => r('{{lt .missing 1}}'), /error calling lt: invalid type for comparison$/);
    assert.throws(() => r('{{eq 1}}'), /error calling eq: missing argument for comparison$/);
    assert.throws(() => r('{{eq .sl .sl}}'), /error calling eq: non-comparable type \[x y z\]: \[\]string$/);
  });

  it('len counts bytes of strings, items of lists and maps', () => {
    assert.equal(r('{{len "héllo"}}|{{len .l}}|{{len .m}}|{{len .el}}|{{.s | len}}'), '6|4|2|0|3');
    assert.throws(() => r('{{len 3}}'), /at <len 3>: error calling len: len of type int$/);
    assert.throws(() => r('{{len .z}}'), /error calling len: len of nil pointer$/);
  });

  it('index and slice', () => {
    assert.equal(
      r('{{index .l 3}}|{{index .l 2 1}}|{{index . "m" "a"}}|{{index . "nope"}}|{{index "abc" 1}}'),
      'map[k:v]|3|1|<no value>|98',
    );
    assert.equal(
      r('{{slice "hello" 1 3}}|{{slice "hello" 2}}|{{slice .l 1 3}}|{{slice "abc"}}'),
      'el|llo|[a [2 3]]|abc',
    );
    assert.throws(() => r('{{index .l 10}}'), /error calling index: index out of range: 10$/);
    assert.throws(() => r('{{index .l 4}}'), /error calling index: reflect: slice index out of range$/);
    assert.throws(() => r('{{index . 1}}'), /error calling index: value has type int; should be string$/);
    assert.throws(() => r('{{index nil 1}}'), /error calling index: index of untyped nil$/);
    assert.throws(() => r('{{slice "abc" 2 1}}'), /error calling slice: invalid slice index: 2 > 1$/);
    assert.throws(
      () => r('{{slice .m 1}}'),
      /error calling slice: can't slice item of type map\[string\]interface \{\}$/,
    );
  });

  it('print, println, printf', () => {
    assert.equal(
      r('{{print "a" "b" 1 2 "c" 3 true}}|{{println "a" 1 2}}|{{print}}'),
      'ab1 2c3 true|a 1 2\n|',
    );
    assert.equal(
      r('{{printf "%s=%d" "a" 1}}|{{printf "%5.2f|%-6s|%q" 3.14259 "ab" "x"}}'),
      'a=1| 3.14|ab    |"x"',
    );
  });

  it('html, js, urlquery', () => {
    assert.equal(r('{{html "<a&b\\"c\'>"}}'), '&lt;a&amp;b&#34;c&#39;&gt;');
    assert.equal(
      r('{{js "a\'b\\"c<d>=&\\\\\\n\\u2028"}}'),
      'a\\\'b\\"c\\u003Cd\\u003E\\u003D\\u0026\\\\\\u000A\\u2028',
    );
    assert.equal(
      r('{{urlquery "a b&c=d/é"}}|{{urlquery "~-_. !*\'()"}}'),
      'a+b%26c%3Dd%2F%C3%A9|~-_.+%21%2A%27%28%29',
    );
    assert.equal(
      r('{{html "a" "<b>" 3}}|{{js 1 2}}|{{print (html nil)}}'),
      'a&lt;b&gt;3|1 2|&lt;no value&gt;',
    );
  });

  it('call invokes function values', () => {
    assert.equal(r('{{call .F 2 3}}', { F: (a: number, b: number) => a * b }), '6');
    assert.throws(() => r('{{call .s}}'), /error calling call: non-function \.s of type string$/);
  });
});

describe('docker functions', () => {
  it('json encodes like Go with HTML escaping off', () => {
    assert.equal(
      r('{{json .l}}|{{json .lt}}|{{json 1.5}}|{{json .em}}|{{json .el}}|{{json .missing}}|{{json .z}}'),
      '[1,"a",[2,3],{"k":"v"}]|"<a&b>"|1.5|{}|[]|null|null',
    );
    assert.equal(
      r('{{json "\\b\\f\\x01\\x7f\\t\\n\\r\\\\/\\"é😀\\u2029"}}'),
      '"\\b\\f\\u0001\x7f\\t\\n\\r\\\\/\\"é😀\\u2029"',
    );
    assert.equal(
      r(
        '{{json .}}',
        new Map([
          ['b', 1],
          ['a', 2],
        ]),
      ),
      '{"a":2,"b":1}',
    );
    assert.equal(
      r('{{json .}}', { When: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120)) }),
      '{"When":"2024-01-02T03:04:05.12Z"}',
    );
  });

  it('split, join, title, lower, upper', () => {
    assert.equal(
      r('{{split "a,b,c" ","}}|{{split "a,b" ""}}|{{join (split "a,b,c" ",") "-"}}|{{join .sl ""}}'),
      '[a b c]|[a , b]|a-b-c|xyz',
    );
    assert.equal(
      r('{{title "hello wORLD foo-bar"}}|{{upper "aé"}}|{{lower "ÀB"}}'),
      'Hello WORLD Foo-Bar|AÉ|àb',
    );
    assert.equal(r('{{lower "ǅß İ"}}|{{upper "ß ǆ ﬃ"}}'), 'ǆß i|ß Ǆ ﬃ');
  });

  it('pad and truncate', () => {
    assert.equal(
      r('{{pad "x" 2 3}}|{{pad "" 2 3}}|{{truncate "hello" 3}}|{{truncate "hi" 3}}|{{truncate "abc" 3}}'),
      '  x   ||hel|hi|abc',
    );
  });

  it('checks argument types like Go', () => {
    assert.throws(() => r('{{lower 3}}'), /at <3>: expected string; found 3$/);
    assert.throws(() => r('{{pad "x" 1.5 2}}'), /at <1\.5>: expected integer; found 1\.5$/);
    assert.throws(() => r('{{lower .missing}}'), /at <\.missing>: invalid value; expected string$/);
    assert.throws(() => r('{{lower .n}}'), /at <\.n>: wrong type for value; expected string; got int$/);
    assert.throws(
      () => r('{{join .l ","}}'),
      /wrong type for value; expected \[\]string; got \[\]interface \{\}$/,
    );
    assert.throws(() => r('{{title}}'), /at <title>: wrong number of args for title: want 1 got 0$/);
    assert.throws(() => r('{{json 1 2}}'), /wrong number of args for json: want 1 got 2$/);
    assert.throws(() => r('{{printf}}'), /wrong number of args for printf: want at least 1 got 0$/);
  });

  it('accepts extra functions at compile time', () => {
    const t = compileTemplate('{{shout .}}', { functions: { shout: (s) => `${String(s).toUpperCase()}!` } });
    assert.equal(t.render('hi'), 'HI!');
  });
});

describe('value printing (%v)', () => {
  it('prints values as Go does', () => {
    assert.equal(
      r('{{.s}}|{{.n}}|{{.f}}|{{.big}}|{{.b}}|{{.l}}|{{.m}}|{{.e}}|{{.el}}|{{.em}}'),
      'str|3|1.5|1e+21|true|[1 a [2 3] map[k:v]]|map[a:1 b:2]||[]|map[]',
    );
    assert.equal(r('{{.}}', [null, undefined, 'a']), '[<nil> <nil> a]');
    assert.equal(
      r('{{print 1234567.5}}|{{print 0.0001}}|{{print 0.00001}}|{{print 1.5e20}}|{{print 100000.5}}'),
      '1.2345675e+06|0.0001|1e-05|1.5e+20|100000.5',
    );
    assert.equal(r('{{.}}', new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '2024-01-02 03:04:05 +0000 UTC');
    assert.equal(r('{{.}}', { b: { y: [1], x: null }, a: 'q' }), 'map[a:q b:map[x:<nil> y:[1]]]');
  });
});

describe('named templates', () => {
  it('supports define, template and block', () => {
    assert.equal(
      r('{{define "t"}}[{{.}}|{{$}}]{{end}}{{template "t" .s}}{{template "t"}}{{block "b" .n}}B{{.}}{{end}}'),
      '[str|str][<no value>|<no value>]B3',
    );
    assert.equal(
      r(
        '{{define "r"}}{{if gt . 0}}{{.}}{{template "r" (len (slice "xxxxx" 1 .))}}{{end}}{{end}}{{template "r" 4}}',
      ),
      '4321',
    );
    assert.throws(() => r('{{template "x"}}'), /at <\{\{template "x"\}\}>: template "x" not defined$/);
    assert.throws(
      () => r('{{define "a"}}{{.X.Y}}{{end}}{{template "a" 3}}'),
      /executing "a" at <\.X\.Y>: can't evaluate field X in type int$/,
    );
  });
});

describe('limits', () => {
  it('stops runaway template recursion with an error', () => {
    assert.throws(
      () => r('{{define "r"}}{{template "r"}}{{end}}{{template "r"}}'),
      /executing "r" at <\{\{template "r"\}\}>: exceeded maximum template depth \(200\)$/,
    );
  });

  it('prints cyclic objects without recursing forever', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    assert.equal(r('{{.}}', a), 'map[self:<cycle> x:1]');
  });
});

describe('render options', () => {
  it('missingKey error fails on missing keys like docker inspect', () => {
    const t = compileTemplate('{{.Nope}}');
    assert.equal(t.render({}), '<no value>');
    assert.throws(
      () => t.render({}, { missingKey: 'error' }),
      /at <\.Nope>: map has no entry for key "Nope"$/,
    );
  });

  it('renders the same compiled template many times', () => {
    const t = compileTemplate('{{.A}}');
    assert.deepEqual(
      [1, 2, 3].map((A) => t.render({ A })),
      ['1', '2', '3'],
    );
    assert.equal(t.source, '{{.A}}');
  });
});
