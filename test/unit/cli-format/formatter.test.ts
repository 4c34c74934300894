// The docker CLI's --format contract for list, single-object and inspect output. The table and
// json expectations were checked against `docker context ls` over the same rows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  QUIET_FORMAT_WARNING,
  renderInspect,
  renderList,
  renderOne,
  TemplateError,
} from '../../../src/cli/format/index.ts';

const rows = [
  {
    Name: 'a-very-long-context-name-here',
    Description: 'wide 漢字 desc',
    DockerEndpoint: 'tcp://1.2.3.4:2375',
    Error: '',
    Current: false,
  },
  {
    Name: 'default',
    Description: 'Current DOCKER_HOST based configuration',
    DockerEndpoint: 'unix:///var/run/docker.sock',
    Error: '',
    Current: true,
  },
  {
    Name: 'mid',
    Description: '<html> & stuff',
    DockerEndpoint: 'unix:///a/b/c/d/e/f/g/h/i/j.sock',
    Error: '',
    Current: false,
  },
];
const headers = {
  Name: 'NAME',
  Description: 'DESCRIPTION',
  DockerEndpoint: 'DOCKER ENDPOINT',
  Error: 'ERROR',
};
const defaultTableFormat =
  'table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}';

function list(format: string | undefined, extra: Partial<Parameters<typeof renderList>[0]> = {}): string {
  return renderList({ format, defaultTableFormat, headers, rows, ...extra });
}

const DEFAULT_TABLE = [
  'NAME                            DESCRIPTION                               DOCKER ENDPOINT                    ERROR',
  'a-very-long-context-name-here   wide 漢字 desc                            tcp://1.2.3.4:2375                 ',
  'default *                       Current DOCKER_HOST based configuration   unix:///var/run/docker.sock        ',
  'mid                             <html> & stuff                            unix:///a/b/c/d/e/f/g/h/i/j.sock   ',
  '',
].join('\n');

describe('renderList', () => {
  it('uses the default table for no format, "" and "table"', () => {
    assert.equal(list(undefined), DEFAULT_TABLE);
    assert.equal(list(''), DEFAULT_TABLE);
    assert.equal(list('table'), DEFAULT_TABLE);
    assert.equal(
      renderList({ format: undefined, defaultTableFormat: defaultTableFormat.slice(6), headers, rows }),
      DEFAULT_TABLE,
    );
  });

  it('renders headers with docker header functions, keeping pad and missing keys', () => {
    assert.equal(
      list('table {{.Name}}\t{{.Description | upper}}\t{{pad .Error 1 1}}|{{.Current}}'),
      [
        'NAME                            DESCRIPTION                                ERROR |<no value>',
        'a-very-long-context-name-here   WIDE 漢字 DESC                            |false',
        'default                         CURRENT DOCKER_HOST BASED CONFIGURATION   |true',
        'mid                             <HTML> & STUFF                            |false',
        '',
      ].join('\n'),
    );
  });

  it('turns literal \\t and \\n into tab and newline, and trims spaces around the table body', () => {
    assert.equal(
      list('  table {{.Name}}  '),
      'table a-very-long-context-name-here\ntable default\ntable mid\n',
    );
    assert.equal(
      list('table   {{.Name}}\\t{{.Current}}   '),
      [
        'NAME                            <no value>',
        'a-very-long-context-name-here   false',
        'default                         true',
        'mid                             false',
        '',
      ].join('\n'),
    );
    assert.equal(
      list('{{.Name}}\\t{{.Current}}\\n'),
      'a-very-long-context-name-here\tfalse\n\ndefault\ttrue\n\nmid\tfalse\n\n',
    );
  });

  it('prints a header partially when it fails, as docker ignores header errors', () => {
    const out = list('table {{.Name}}\t{{json .}}');
    assert.equal(out.split('\n')[0], 'NAME                            ');
    assert.equal(
      out.split('\n')[1],
      'a-very-long-context-name-here   {"Current":false,"Description":"wide 漢字 desc","DockerEndpoint":"tcp://1.2.3.4:2375","Error":"","Name":"a-very-long-context-name-here"}',
    );
  });

  it('prints json rows as docker list contexts marshal them: sorted keys, HTML escaped', () => {
    assert.equal(
      list('json'),
      '{"Current":false,"Description":"wide 漢字 desc","DockerEndpoint":"tcp://1.2.3.4:2375","Error":"","Name":"a-very-long-context-name-here"}\n' +
        '{"Current":true,"Description":"Current DOCKER_HOST based configuration","DockerEndpoint":"unix:///var/run/docker.sock","Error":"","Name":"default"}\n' +
        '{"Current":false,"Description":"\\u003chtml\\u003e \\u0026 stuff","DockerEndpoint":"unix:///a/b/c/d/e/f/g/h/i/j.sock","Error":"","Name":"mid"}\n',
    );
    assert.equal(list('{{json .}}'), list('json'));
    assert.equal(
      list('{{json .Description}}'),
      '"wide 漢字 desc"\n"Current DOCKER_HOST based configuration"\n"<html> & stuff"\n',
    );
  });

  it('renders custom templates one line per row', () => {
    assert.equal(
      list('{{.Name}} {{if .Current}}(current){{end}}'),
      'a-very-long-context-name-here \ndefault (current)\nmid \n',
    );
    assert.equal(list('raw'), 'raw\nraw\nraw\n');
    assert.equal(list('tablex {{.Name}}').split('\n')[0], 'x NAME');
  });

  it('prints only the header for no rows (table) and nothing otherwise', () => {
    assert.equal(
      renderList({ format: undefined, defaultTableFormat, headers, rows: [] }),
      'NAME      DESCRIPTION   DOCKER ENDPOINT   ERROR\n',
    );
    assert.equal(renderList({ format: 'json', defaultTableFormat, headers, rows: [] }), '');
    assert.equal(renderList({ format: '{{.Name}}', defaultTableFormat, headers, rows: [] }), '');
  });

  it('quiet prints the quiet format, and warns when a custom format is ignored', () => {
    const ids = [{ ID: 'aaa' }, { ID: 'bbb' }];
    const warnings: string[] = [];
    const q = (format: string | undefined) =>
      renderList({
        format,
        defaultTableFormat: 'table {{.ID}}',
        headers: { ID: 'ID' },
        rows: ids,
        quiet: true,
        onWarning: (w) => warnings.push(w),
      });
    assert.equal(q(undefined), 'aaa\nbbb\n');
    assert.equal(q('table'), 'aaa\nbbb\n');
    assert.deepEqual(warnings, []);
    assert.equal(q('{{.Name}}'), 'aaa\nbbb\n');
    assert.deepEqual(warnings, [QUIET_FORMAT_WARNING]);
    assert.equal(
      renderList({
        format: undefined,
        defaultTableFormat: '',
        headers: {},
        rows: [{ Digest: 'sha256:1' }],
        quiet: true,
        quietFormat: '{{.Digest}}',
      }),
      'sha256:1\n',
    );
  });

  it('calls row methods such as .Label', () => {
    class Row {
      constructor(
        readonly ID: string,
        private readonly labels: Record<string, string>,
      ) {}
      Label(name: string): string {
        return this.labels[name] ?? '';
      }
    }
    const out = renderList({
      format: 'table {{.ID}}\t{{.Label "role"}}',
      defaultTableFormat: '',
      headers: { ID: 'CONTAINER ID' },
      rows: [new Row('abc', { role: 'web' }), new Row('def', {})],
    });
    // docker's SubHeaderContext.Label heads the column with the label's name.
    assert.equal(out, 'CONTAINER ID   role\nabc            web\ndef            \n');
    const dotted = renderList({
      format: 'table {{.Label "com.example.run_as-user"}}',
      defaultTableFormat: '',
      headers: {},
      rows: [new Row('abc', {})],
    });
    assert.equal(dotted.split('\n')[0], 'run as user');
  });

  it('throws docker-worded errors for bad templates', () => {
    assert.throws(
      () => list('table {{.Name}'),
      (e: unknown) =>
        e instanceof TemplateError &&
        e.message === "template parsing error: template: :1: bad character U+007D '}'",
    );
    assert.throws(
      () => list('{{.Name.X}}'),
      /^TemplateError: template parsing error: template: :1:7: executing "" at <\.Name\.X>: can't evaluate field X in type string$/,
    );
  });
});

describe('renderOne', () => {
  it('renders the template followed by a newline', () => {
    assert.equal(renderOne('{{.Client.Version}}', { Client: { Version: '28.2.2' } }), '28.2.2\n');
    assert.equal(renderOne('a\\tb', {}), 'a\\tb\n');
  });

  it('prints {{json .}} for json', () => {
    assert.equal(renderOne('json', { Server: null, A: '<b>' }), '{"Server":null,"A":"<b>"}\n');
  });

  it('can fail on missing keys like docker inspect does', () => {
    assert.equal(renderOne('{{.Nope}}', {}), '<no value>\n');
    assert.throws(
      () => renderOne('{{.Nope}}', {}, { missingKey: 'error' }),
      /map has no entry for key "Nope"$/,
    );
  });
});

describe('renderInspect', () => {
  const items = [
    { Id: 'sha256:1', Config: { Labels: {}, Env: ['A=1'] } },
    { Id: 'sha256:2', Config: null },
  ];

  it('prints an indented JSON array without a format', () => {
    assert.equal(
      renderInspect(undefined, items),
      '[\n    {\n        "Id": "sha256:1",\n        "Config": {\n            "Labels": {},\n            "Env": [\n                "A=1"\n            ]\n        }\n    },\n    {\n        "Id": "sha256:2",\n        "Config": null\n    }\n]\n',
    );
    assert.equal(renderInspect('', []), '[]\n');
  });

  it('prints a compact array for json', () => {
    assert.equal(
      renderInspect('json', items),
      '[{"Id":"sha256:1","Config":{"Labels":{},"Env":["A=1"]}},{"Id":"sha256:2","Config":null}]\n',
    );
  });

  it('renders each item with a template', () => {
    assert.equal(
      renderInspect('{{.Id}} {{.Config}}', items),
      'sha256:1 map[Env:[A=1] Labels:map[]]\nsha256:2 <nil>\n',
    );
    assert.equal(renderInspect('{{.Id}}', []), '\n');
  });
});
