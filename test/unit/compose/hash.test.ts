// The config hash as Compose v2 computes it: the expected JSON below is written by hand from
// the rules of Go's encoding/json applied to compose-go's types.ServiceConfig (field order of
// the struct, map keys sorted, omitempty, HTML-safe escaping, compose-go's own encoders) and of
// v2's ServiceHash (build, pull_policy, scale, deploy.replicas, depends_on, profiles cleared).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { configHash } from '../../../src/compose/index.ts';
import { goDuration, goString, v2ServiceJson } from '../../../src/compose/hash.ts';

const svc = {
  image: 'busybox',
  build: { context: '/x', dockerfile: 'Dockerfile' },
  command: ['sh', '-c', 'echo a && sleep 1'],
  environment: { B: null, A: '1' },
  env_file: [{ path: '/x/.env', required: true }],
  ports: [{ mode: 'ingress', target: 80, protocol: 'tcp', published: '8080', host_ip: '127.0.0.1' }],
  volumes: [
    { type: 'volume', source: 'data', target: '/data', volume: {} },
    { type: 'bind', source: '/srv/site', target: '/site', read_only: true, bind: { create_host_path: true } },
  ],
  healthcheck: { test: ['CMD', 'true'], interval: '90s', retries: 3 },
  restart: 'always',
  stop_grace_period: '1s',
  labels: { z: '1', a: '<b>' },
  depends_on: { db: { condition: 'service_started', required: true } },
  networks: { default: null, back: { aliases: ['w'] } },
  init: false,
  deploy: { replicas: 2 },
  ulimits: { nofile: { soft: 10, hard: 20 }, nproc: 5 },
  shm_size: '64m',
  profiles: ['p'],
  pull_policy: 'always',
};

// Fields in ServiceConfig order: command, deploy, entrypoint, environment, healthcheck, image,
// init, labels, networks, ports, restart, shm_size, stop_grace_period, ulimits, volumes.
// - `&&` and `<b>` are escaped as Go does; entrypoint is null (no omitempty on it);
// - deploy without replicas keeps its struct values resources and placement as {};
// - init is a *bool: false is written; 90s prints as Go's 1m30s; 64m as "67108864";
// - ulimits: a single value is a number, soft/hard an object; the bind's create_host_path
//   true is the opt-out default and left out (omitzero), leaving "bind":{}.
const expected =
  '{"command":["sh","-c","echo a \\u0026\\u0026 sleep 1"],"deploy":{"resources":{},"placement":{}},' +
  '"entrypoint":null,"environment":{"A":"1","B":null},' +
  '"healthcheck":{"test":["CMD","true"],"interval":"1m30s","retries":3},"image":"busybox","init":false,' +
  '"labels":{"a":"\\u003cb\\u003e","z":"1"},"networks":{"back":{"aliases":["w"]},"default":null},' +
  '"ports":[{"mode":"ingress","host_ip":"127.0.0.1","target":80,"published":"8080","protocol":"tcp"}],' +
  '"restart":"always","shm_size":"67108864","stop_grace_period":"1s",' +
  '"ulimits":{"nofile":{"soft":10,"hard":20},"nproc":5},' +
  '"volumes":[{"type":"volume","source":"data","target":"/data","volume":{}},' +
  '{"type":"bind","source":"/srv/site","target":"/site","read_only":true,"bind":{}}]}';

test('v2ServiceJson is Go json.Marshal of compose-go ServiceConfig after ServiceHash clears its fields', () => {
  assert.equal(v2ServiceJson(svc), expected);
  assert.equal(configHash(svc), createHash('sha256').update(expected).digest('hex'));
});

test('the smallest service: image, the implicit default network, null command and entrypoint', () => {
  const json = '{"command":null,"entrypoint":null,"image":"nginx","networks":{"default":null}}';
  assert.equal(v2ServiceJson({ image: 'nginx', networks: { default: null } }), json);
});

test('fields the hash leaves out do not change it; fields it keeps do', () => {
  const base = configHash(svc);
  assert.equal(
    configHash({ ...svc, build: { context: '/y' }, depends_on: {}, scale: 3, deploy: { replicas: 9 } }),
    base,
  );
  assert.notEqual(configHash({ ...svc, environment: { A: '2', B: null } }), base);
  assert.notEqual(configHash({ ...svc, init: undefined }), base);
  assert.notEqual(configHash({ ...svc, deploy: undefined }), base);
});

test("Go's duration and string forms", () => {
  assert.deepEqual([0, 5e8, 1.5e9, 60e9, 90e9, 7200e9, 1500].map(goDuration), [
    '0s',
    '500ms',
    '1.5s',
    '1m0s',
    '1m30s',
    '2h0m0s',
    '1.5µs',
  ]);
  assert.equal(goString('a<b>&\u2028"'), '"a\\u003cb\\u003e\\u0026\\u2028\\""');
});

test('secrets, configs, extra_hosts and a file mode in compose-go form', () => {
  const s = {
    image: 'a',
    networks: { default: null },
    secrets: [{ source: 's1', target: '/run/secrets/s1' }],
    configs: [{ source: 'c1' }, { source: 'c2', mode: 0o400 }],
    extra_hosts: ['h:1.2.3.4', 'a=::1'],
    init: true,
  };
  // configs, entrypoint, extra_hosts (sorted host=ip), image, init, networks, secrets; mode as "0400".
  const json =
    '{"command":null,"configs":[{"source":"c1"},{"source":"c2","mode":"0400"}],"entrypoint":null,' +
    '"extra_hosts":["a=::1","h=1.2.3.4"],"image":"a","init":true,"networks":{"default":null},' +
    '"secrets":[{"source":"s1","target":"/run/secrets/s1"}]}';
  assert.equal(v2ServiceJson(s), json);
});
