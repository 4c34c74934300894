// `berthd --validate [--config-file F]`: checks flags and daemon.json as dockerd --validate
// does (unknown keys, wrong types, values, a directive given both as a flag and in the file)
// and exits 0 with "configuration OK" or 1 with dockerd's text, starting nothing.
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, run } from '../helpers/daemon.ts';

const BERTHD = path.join(ROOT, 'dist/berthd.mjs');
let dir: string;

before(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-validate-'));
});
after(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

async function validate(config: string | undefined, flags: string[] = []) {
  const file = path.join(dir, 'daemon.json');
  if (config !== undefined) await fsp.writeFile(file, config);
  const dataRoot = path.join(dir, 'data');
  const r = await run(process.execPath, [
    BERTHD,
    '--validate',
    '--config-file',
    file,
    '--data-root',
    dataRoot,
    '--exec-root',
    path.join(dir, 'exec'),
    ...flags,
  ]);
  // Validation starts nothing: no state directories, no socket.
  assert.equal(existsSync(dataRoot) || existsSync(path.join(dir, 'exec')), false, 'validate created state');
  return { ...r, file };
}

describe('berthd --validate', () => {
  test('a good file: "configuration OK", exit 0', async () => {
    const r = await validate(
      JSON.stringify({
        debug: true,
        labels: ['tier=web'],
        'registry-mirrors': ['https://mirror.example'],
        'insecure-registries': ['10.0.0.0/8', 'registry.local:5000'],
        'max-concurrent-downloads': 6,
        'live-restore': true,
        runtimes: { crun: { path: '/usr/bin/crun', runtimeArgs: ['--debug'] } },
      }),
    );
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'configuration OK\n', '']);
    const empty = await validate('');
    assert.deepEqual([empty.code, empty.stdout], [0, 'configuration OK\n']);
  });

  test('refusals exit 1 with dockerd texts naming the file and the directive', async () => {
    const cases: [string, string[], string][] = [
      [
        '{"colour": "blue", "debug": true}',
        [],
        "the following directives don't match any configuration option: colour",
      ],
      [
        '{"debug": "yes"}',
        [],
        'json: cannot unmarshal string into Go struct field Config.debug of type bool',
      ],
      [
        '{"labels": [1]}',
        [],
        'json: cannot unmarshal number into Go struct field Config.labels of type string',
      ],
      [
        '{"debug": false, "data-root": "/srv/berth"}',
        ['--debug'],
        'the following directives are specified both as a flag and in the configuration file: debug: (from flag: true, from file: false)',
      ],
      ['{"labels": ["justakey"]}', [], 'bad attribute format: justakey'],
      [
        '{"registry-mirrors": ["ftp://mirror"]}',
        [],
        'invalid mirror: unsupported scheme "ftp" in "ftp://mirror"',
      ],
      [
        '{"insecure-registries": ["http://r:5000"]}',
        [],
        "insecure registry http://r:5000 should not contain '://'",
      ],
      ['{"max-concurrent-uploads": 0}', [], 'invalid max concurrent uploads: 0'],
      [
        '{"default-ulimits": {"nofile": {"Soft": 3, "Hard": 2}}}',
        [],
        'default-ulimits.nofile: ulimit soft limit must be less than or equal to hard limit: 3 > 2',
      ],
      [
        '{"cgroup-parent": "/berth/../../etc"}',
        [],
        'invalid cgroup-parent "/berth/../../etc": ".." is not allowed in a cgroup path',
      ],
      ['{"cgroup-parent": "a b"}', [], 'invalid cgroup-parent "a b": "a b" has characters other than'],
      ['{"debug": true,', [], 'invalid JSON'],
    ];
    for (const [config, flags, text] of cases) {
      const r = await validate(config, flags);
      assert.equal(r.code, 1, config);
      assert.equal(r.stdout, '', config);
      assert.ok(
        r.stderr.startsWith(`unable to configure the daemon with file ${r.file}: ${text}`),
        `${config}\n${r.stderr}`,
      );
    }
  });

  test('flags are checked too; a named file must exist', async () => {
    const host = await validate('{}', ['-H', 'tcp://0.0.0.0:2375']);
    assert.equal(host.code, 1);
    assert.match(host.stderr, /refusing to listen on tcp:\/\/0\.0\.0\.0:2375/);
    const level = await validate('{}', ['--log-level', 'chatty']);
    assert.equal(level.code, 1);
    assert.match(level.stderr, /invalid log level "chatty"/);
    // Above berthd's own hard limit no container could start: --validate says so (the test
    // runner's limit is what berthd inherits).
    const ulimit = await validate('{}', ['--default-ulimit', 'nofile=1:2000000000']);
    assert.equal(ulimit.code, 1, ulimit.stdout);
    assert.match(
      ulimit.stderr,
      /default ulimit nofile: hard limit 2000000000 is above berthd's own hard limit \d+/,
    );
    assert.equal((await validate('{}', ['--default-ulimit', 'nofile=100:200'])).code, 0);
    const cgroup = await validate('{}', ['--cgroup-parent', '../escape']);
    assert.equal(cgroup.code, 1);
    assert.match(cgroup.stderr, /^invalid cgroup-parent "\.\.\/escape": "\.\." is not allowed/);
    assert.equal((await validate('{"cgroup-parent": "system.slice/berth"}')).code, 0);
    await fsp.rm(path.join(dir, 'daemon.json'));
    const missing = await validate(undefined);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /unable to read configuration file .*daemon\.json: ENOENT/);
  });
});
