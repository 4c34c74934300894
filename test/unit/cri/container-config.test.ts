// CreateContainer's config as containerd reads it: command/args against the image's Entrypoint
// and Cmd, envs over the image's by name, and refusals that name the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergedEnv, planContainer, processArgs } from '../../../src/cri/container-config.ts';
import { ociResources } from '../../../src/cri/container-bundle.ts';

const base = { metadata: { name: 'c', attempt: 0 }, image: { image: 'busybox' } };
const image = { Entrypoint: ['/entry'], Cmd: ['from-image'], Env: ['PATH=/image/bin', 'A=image'] };

test('argv: command replaces the entrypoint (and Cmd); args alone replace Cmd only', () => {
  const argv = (over: object, img: object = image) => processArgs(planContainer({ ...base, ...over }), img);
  assert.deepEqual(argv({}), ['/entry', 'from-image']);
  assert.deepEqual(argv({ args: ['mine'] }), ['/entry', 'mine']);
  assert.deepEqual(argv({ command: ['/bin/sh'] }), ['/bin/sh']);
  assert.deepEqual(argv({ command: ['/bin/sh'], args: ['-c', 'x'] }), ['/bin/sh', '-c', 'x']);
  assert.deepEqual(argv({}, { Cmd: ['only-cmd'] }), ['only-cmd']);
  assert.throws(() => argv({}, {}), /config\.command: no command given/);
});

test('env: defaults, then the image, then the request, by name', () => {
  const plan = planContainer({
    ...base,
    envs: [
      { key: 'A', value: 'mine' },
      { key: 'B', value: '1=2' },
    ],
  });
  assert.deepEqual(mergedEnv(plan, image, 'pod-a'), ['PATH=/image/bin', 'HOSTNAME=pod-a', 'A=mine', 'B=1=2']);
  assert.throws(
    () => planContainer({ ...base, envs: [{ key: 'X=Y', value: '' }] }),
    /config\.envs\[0\]\.key/,
  );
});

test('refusals name the field', () => {
  const bad = (over: object, field: RegExp) =>
    assert.throws(() => planContainer({ ...base, ...over }), field);
  bad({ metadata: { name: '' } }, /config\.metadata\.name/);
  bad({ metadata: { name: 'a/b' } }, /config\.metadata\.name/);
  bad({ image: { image: '' } }, /config\.image\.image/);
  bad({ log_path: '/abs.log' }, /config\.log_path/);
  bad({ log_path: 'a/../../b.log' }, /config\.log_path/);
  bad({ mounts: [{ container_path: '/x', host_path: 'rel' }] }, /config\.mounts\[0\]\.host_path/);
  bad({ mounts: [{ container_path: '/x', host_path: '/y', propagation: 'WEIRD' }] }, /propagation/);
  bad({ devices: [{ container_path: '/dev/x', host_path: '/dev/null', permissions: 'rwx' }] }, /permissions/);
  bad({ linux: { resources: { oom_score_adj: 1001 } } }, /oom_score_adj/);
  bad({ linux: { resources: { cpuset_cpus: '0-a' } } }, /cpuset_cpus/);
  bad(
    { linux: { security_context: { capabilities: { add_capabilities: ['NET ADMIN'] } } } },
    /add_capabilities\[0\]/,
  );
  bad({ linux: { security_context: { run_as_group: { value: 5 } } } }, /run_as_group/);
  bad(
    { linux: { security_context: { seccomp: { profile_type: 'Localhost', localhost_ref: 'rel.json' } } } },
    /localhost_ref/,
  );
  bad({ linux: { security_context: { namespace_options: { pid: 'TARGET' } } } }, /target_id/);
});

test('resources: only what was set reaches the OCI spec', () => {
  const plan = planContainer({
    ...base,
    linux: { resources: { cpu_shares: 256, memory_limit_in_bytes: 1 << 26 } },
  });
  assert.deepEqual(ociResources(plan.resources), { cpu: { shares: 256 }, memory: { limit: 1 << 26 } });
  assert.deepEqual(ociResources(planContainer(base).resources), {});
});
