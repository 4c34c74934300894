// docker's inline boolean values (`--rm=false`) become commander's bare or `--no-` flags, for
// the command they belong to only; pflag's wrapping of flag descriptions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { normaliseBoolFlags } from '../../../src/cli/argv.ts';
import { wrapText } from '../../../src/cli/help/index.ts';

function program(): Command {
  const p = new Command('berth').enablePositionalOptions().option('-D, --debug').option('-H, --host <list>');
  p.command('run')
    .option('--rm')
    .option('-d, --detach')
    .option('--sig-proxy')
    .option('--no-sig-proxy')
    .option('--name <string>')
    .passThroughOptions();
  p.command('ps').option('--no-trunc').option('-a, --all');
  return p;
}

test('=true becomes the bare flag, =false the --no- form or nothing', () => {
  const p = program();
  assert.deepEqual(normaliseBoolFlags(p, ['run', '--rm=false', '-d=true', '--sig-proxy=false', 'img']), [
    'run',
    '-d',
    '--no-sig-proxy',
    'img',
  ]);
  assert.deepEqual(normaliseBoolFlags(p, ['ps', '--no-trunc=true', '-a=false']), ['ps', '--no-trunc']);
  assert.deepEqual(normaliseBoolFlags(p, ['-D=true', '-H', 'x', 'ps']), ['-D', '-H', 'x', 'ps']);
});

test("the container's arguments and option values are left alone", () => {
  const p = program();
  const argv = ['run', '--name', '--rm=false', 'img', 'sh', '--rm=false'];
  assert.deepEqual(normaliseBoolFlags(p, argv), argv);
  assert.deepEqual(normaliseBoolFlags(p, ['run', 'img', '-d=true']), ['run', 'img', '-d=true']);
  assert.deepEqual(normaliseBoolFlags(p, ['ps', '--', '-a=true']), ['ps', '--', '-a=true']);
});

test('descriptions wrap at the width less the column, with five columns of slop', () => {
  const text =
    'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)';
  assert.equal(
    wrapText(text, 23, 79),
    [
      'Show logs since timestamp (e.g.',
      '"2013-01-02T13:23:37Z") or relative (e.g. "42m"',
      'for 42 minutes)',
    ].join(`\n${' '.repeat(23)}`),
  );
  assert.equal(wrapText('short', 23, 79), 'short');
});
