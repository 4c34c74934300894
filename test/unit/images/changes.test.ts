import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChanges } from '../../../src/images/changes.ts';

test('CMD/ENTRYPOINT in exec and shell form', () => {
  const c = applyChanges({}, ['CMD ["sh", "-c", "echo"]', 'ENTRYPOINT /bin/run --fast']);
  assert.deepEqual(c.Cmd, ['sh', '-c', 'echo']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/bin/run --fast']);
});

test('ENV both syntaxes, overriding earlier values; LABEL with quotes', () => {
  const c = applyChanges({ Env: ['A=1'] }, [
    'ENV A=2 B="two words"',
    'ENV C three words',
    'LABEL "x"=y z="a b"',
  ]);
  assert.deepEqual(c.Env, ['A=2', 'B=two words', 'C=three words']);
  assert.deepEqual(c.Labels, { '"x"': 'y', z: 'a b' });
});

test('EXPOSE, VOLUME, USER, WORKDIR (relative), STOPSIGNAL, ONBUILD', () => {
  const c = applyChanges({}, [
    'EXPOSE 80 53/udp',
    'VOLUME ["/data"]',
    'USER nobody',
    'WORKDIR /app',
    'WORKDIR sub',
    'STOPSIGNAL SIGINT',
    'ONBUILD RUN x',
  ]);
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.User, 'nobody');
  assert.equal(c.WorkingDir, '/app/sub');
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.OnBuild, ['RUN x']);
});

test('refuses instructions import does not allow and bad values', () => {
  assert.throws(() => applyChanges({}, ['RUN echo']), /RUN is not a valid change command/);
  assert.throws(() => applyChanges({}, ['FROM x']), /not a valid change command/);
  assert.throws(() => applyChanges({}, ['EXPOSE eighty']), /invalid port "eighty"/);
  assert.throws(() => applyChanges({}, ['ENV =x']), /KEY=VALUE/);
});
