// CRI streaming cost (npm run bench:cri-stream): `true` run in a CRI container by ExecSync, by
// Exec over the streaming server with a websocket client (v5) and with a SPDY/3.1 client (v4,
// spdy-transport), interleaved for ROUNDS rounds on one private berthd; medians and each
// streaming form's ratio to ExecSync (the RPC plus connect, upgrade and status on top of the
// same `runc exec`).
import { performance } from 'node:perf_hooks';
import { startCriPods } from '../test/helpers/cri-pods.ts';
import { openChannels } from '../test/helpers/k8s-channels.ts';
import { readAll, upgradeSpdy } from '../test/helpers/k8s-spdy.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 15);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const t = await startCriPods();
try {
  const pod = await t.runPod();
  const box = await t.runCtr(pod, t.ctrConfig('bench', ['sleep', '3600']));
  const forms: Record<string, () => Promise<void>> = {
    ExecSync: async () => {
      const r = await t.cri.runtime('ExecSync', { container_id: box, cmd: ['true'], timeout: 10 });
      if (r.exit_code !== 0) throw new Error('ExecSync failed');
    },
    'Exec websocket v5': async () => {
      const { url } = await t.cri.runtime('Exec', { container_id: box, cmd: ['true'], stdout: true });
      const c = await openChannels(url, ['v5.channel.k8s.io']);
      await c.closed();
      if (!c.received(3).toString().includes('Success')) throw new Error('ws exec failed');
    },
    'Exec SPDY v4': async () => {
      const { url } = await t.cri.runtime('Exec', { container_id: box, cmd: ['true'], stdout: true });
      const c = await upgradeSpdy(url, ['v4.channel.k8s.io']);
      try {
        const error = await c.open({ streamtype: 'error' });
        error.end();
        const out = await c.open({ streamtype: 'stdout' });
        out.end();
        const [st] = await Promise.all([readAll(error), readAll(out)]);
        if (!st.includes('Success')) throw new Error('spdy exec failed');
      } finally {
        c.close();
      }
    },
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(forms).map((k) => [k, []]));
  for (const f of Object.values(forms)) await f(); // warm-up
  for (let i = 0; i < ROUNDS; i++)
    for (const [name, f] of Object.entries(forms)) {
      const t0 = performance.now();
      await f();
      times[name]?.push(performance.now() - t0);
    }
  const base = median(times.ExecSync as number[]);
  console.log(`\n== CRI exec of \`true\`: ${ROUNDS} interleaved rounds, median ms (ratio to ExecSync)`);
  for (const [name, xs] of Object.entries(times))
    console.log(
      `${name.padEnd(20)} ${median(xs).toFixed(1).padStart(8)}  ${(median(xs) / base).toFixed(2)}x`,
    );
} finally {
  await t.cleanup();
}
