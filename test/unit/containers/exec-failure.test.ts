// runc's own start failure on an exec's shared stderr: held back, told in Docker's words; the
// process's own output (even a line that looks like runc's, with another exit) passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execFailedText, RuncErrorFilter, runcLogMessage } from '../../../src/containers/exec-failure.ts';
import { inspectLinks } from '../../../src/containers/links.ts';

const LINE =
  'time="2026-12-07T15:40:34Z" level=error msg="exec failed: unable to start container process: exec: \\"nosuch\\": executable file not found in $PATH"\n';

describe('runc exec failures', () => {
  it('parses runc log lines', () => {
    assert.equal(
      runcLogMessage(LINE),
      'exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH',
    );
    assert.equal(runcLogMessage('plain output\n'), undefined);
    assert.equal(execFailedText('m'), 'OCI runtime exec failed: m: unknown\r\n');
  });
  it('holds the line until the exit code tells whose it is', () => {
    const out: string[] = [];
    const f = new RuncErrorFilter((d) => out.push(d.toString()));
    f.write(Buffer.from('before\n'));
    f.write(Buffer.from(LINE));
    assert.deepEqual(out, ['before\n']);
    assert.match(f.finish(255) ?? '', /^exec failed: .*nosuch/);
    assert.deepEqual(out, ['before\n']);
    const g = new RuncErrorFilter((d) => out.push(d.toString()));
    g.write(Buffer.from(LINE));
    assert.equal(g.finish(1), undefined);
    assert.equal(out.at(-1), LINE);
    const h = new RuncErrorFilter((d) => out.push(d.toString()));
    h.write(Buffer.from(LINE));
    h.write(Buffer.from('more\n'));
    assert.deepEqual(out.slice(-2), [LINE, 'more\n']);
    assert.equal(h.finish(255), undefined);
  });
});

describe('inspect HostConfig.Links', () => {
  it('is the legacy link graph on the default bridge, null elsewhere', () => {
    assert.deepEqual(inspectLinks(['db:alias', '/x:/web/y'], 'web', 'default'), [
      '/db:/web/alias',
      '/x:/web/y',
    ]);
    assert.deepEqual(inspectLinks(['db'], 'web', 'bridge'), ['/db:/web/db']);
    assert.equal(inspectLinks(['db:alias'], 'web', 'mynet'), null);
    assert.equal(inspectLinks([], 'web', 'default'), null);
    assert.equal(inspectLinks(undefined, 'web', 'default'), null);
  });
});
