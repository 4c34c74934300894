// Compose interpolation: every operator of the spec's chapter, nesting, `$$`, and errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolateTree, InterpolationError, substitute } from '../../../src/compose/index.ts';

const env: Record<string, string> = { SET: 'v', EMPTY: '', FOO: 'foo' };
const lookup = (n: string) => (Object.hasOwn(env, n) ? env[n] : undefined);
const sub = (s: string) => substitute(s, { lookup });

test('plain and braced variables, unset is empty', () => {
  assert.equal(sub('a $SET b ${SET}c'), 'a v b vc');
  assert.equal(sub('[$UNSET][${UNSET}]'), '[][]');
  const unset: string[] = [];
  substitute('$UNSET ${ALSO}', { lookup, onUnset: (n) => unset.push(n) });
  assert.deepEqual(unset, ['UNSET', 'ALSO']);
});

test('defaults: :- treats empty as unset, - only unset', () => {
  assert.equal(sub('${EMPTY:-d}'), 'd');
  assert.equal(sub('${EMPTY-d}'), '');
  assert.equal(sub('${UNSET-d}'), 'd');
  assert.equal(sub('${SET:-d}'), 'v');
});

test('alternatives: :+ and +', () => {
  assert.equal(sub('${SET:+alt}'), 'alt');
  assert.equal(sub('${EMPTY:+alt}'), '');
  assert.equal(sub('${EMPTY+alt}'), 'alt');
  assert.equal(sub('${UNSET+alt}'), '');
});

test('required: :? and ? name the variable and the message', () => {
  assert.throws(
    () => sub('${UNSET:?set it please}'),
    /required variable UNSET is missing a value: set it please/,
  );
  assert.throws(() => sub('${EMPTY:?e}'), /EMPTY/);
  assert.equal(sub('${EMPTY?e}'), '');
  assert.throws(() => sub('${UNSET?}'), /required variable UNSET is missing a value$/);
});

test('nesting and $$', () => {
  assert.equal(sub('${UNSET:-${FOO}}'), 'foo');
  assert.equal(sub('${UNSET:-${ALSO:-deep}}'), 'deep');
  assert.equal(sub('${UNSET?$FOO}'.replace('?', ':-')), 'foo');
  assert.equal(sub('$$SET and $${SET}'), '$SET and ${SET}');
  assert.equal(sub('${UNSET:-a $$ b}'), 'a $ b');
  // A `$` that starts no variable stays.
  assert.equal(sub('cost: 5$ $1 $-'), 'cost: 5$ $1 $-');
});

test('malformed templates are errors', () => {
  assert.throws(() => sub('${SET'), /never closed/);
  assert.throws(() => sub('${}'), /variable name/);
  assert.throws(() => sub('${SET/a/b}'), /unsupported/);
  assert.throws(() => sub('${1abc}'), /variable name/);
});

test('the tree: values only, keys kept, errors carry the path, casts where the spec wants numbers', () => {
  const out = interpolateTree(
    {
      services: {
        web: {
          image: 'x:${SET}',
          labels: { $SET: '$FOO' },
          deploy: { replicas: '${N:-3}' },
          tty: '${T:-true}',
        },
      },
    },
    { lookup },
  );
  assert.deepEqual(out, {
    services: { web: { image: 'x:v', labels: { $SET: 'foo' }, deploy: { replicas: 3 }, tty: true } },
  });
  assert.throws(
    () => interpolateTree({ services: { web: { environment: ['A=${NOPE:?needed}'] } } }, { lookup }),
    (e: unknown) => e instanceof InterpolationError && e.path.join('.') === 'services.web.environment.0',
  );
});
