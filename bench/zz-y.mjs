import { shutdown, Thread } from 'graceful-threads';

const N = Number(process.argv[2] ?? 8);
const oursUrl = new URL('./workers/shutdown-ours.js', import.meta.url);
const c = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; i < N; i++) new Thread(oursUrl, { export: 'idle', args: [c.buffer] }).start();
while (Atomics.load(c, 0) < N) await new Promise((r) => setTimeout(r, 5));
const hr = () => Number(process.hrtime.bigint()) / 1e6;
process.on('SIGINT', async () => {
  const t0 = hr();
  const r = await shutdown({});
  const t1 = hr();
  process.on('exit', () => console.error(`exit listeners at ${(hr() - t0).toFixed(1)}`));
  console.error(`shutdown ${(t1 - t0).toFixed(1)} ms, ended ms: ${r.ended.map((e) => e.ms.toFixed(1)).join(' ')}`);
  process.exit(130);
});
console.log('ready');
