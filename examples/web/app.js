// The web demo's page: splits the picture into bands, one thread each, and shows how each one
// ends: interrupted (stops within a frame, keeps its rows) or terminated (loses them).
import { interruptAllThreads, Thread } from '/node_modules/graceful-threads/dist/browser/index.js';

const THREADS = 4;
const params = new URLSearchParams(location.search);
const maxIterations = Number(params.get('iterations') ?? 40_000);
const view = {
  centerX: Number(params.get('x') ?? -0.745),
  centerY: Number(params.get('y') ?? 0.11),
  span: Number(params.get('span') ?? 0.0045),
};
const canvas = document.getElementById('canvas');
const context = canvas.getContext('2d');
const { width, height } = canvas;
const rowsPerBand = Math.ceil(height / THREADS);
const now = () => performance.timeOrigin + performance.now();

let threads = [];
let progress = new Int32Array(new SharedArrayBuffer(4 * THREADS));
const interruptedAt = [];
const statusCells = [];
const rowCells = [];

for (let i = 0; i < THREADS; i++) {
  const row = document.getElementById('threads').insertRow();
  row.insertCell().textContent = `band ${i + 1}`;
  rowCells.push(row.insertCell());
  statusCells.push(row.insertCell());
  const button = document.createElement('button');
  button.id = `interrupt-${i}`;
  button.textContent = `Interrupt thread ${i + 1}`;
  button.onclick = () => {
    interruptedAt[i] = now();
    threads[i]?.interrupt();
  };
  document.getElementById('per-thread').append(button);
}

const rowsText = (rows) => (rows === 1 ? '1 row' : `${rows} rows`);

function setStatus(i, text, kind) {
  statusCells[i].textContent = text;
  statusCells[i].className = kind ?? '';
}

let renders = 0;

function render() {
  for (const thread of threads) void thread.terminate();
  context.clearRect(0, 0, width, height);
  progress = new Int32Array(new SharedArrayBuffer(4 * THREADS));
  interruptedAt.length = 0;
  document.body.dataset.settled = '0';
  threads = [];
  let settled = 0;
  // The threads of an earlier render, terminated above, settle later: their news is stale.
  const generation = ++renders;
  const current = () => generation === renders;
  for (let i = 0; i < THREADS; i++) {
    const y0 = i * rowsPerBand;
    const y1 = Math.min(height, y0 + rowsPerBand);
    const { centerX, centerY, span } = view;
    const band = { width, height, y0, y1, maxIterations, centerX, centerY, scale: span / width };
    const thread = new Thread(new URL('./mandelbrot.js', import.meta.url), {
      args: [band, progress, i],
      name: `band-${i + 1}`,
    }).start();
    threads.push(thread);
    setStatus(i, 'rendering');
    thread
      .join()
      .then(
        (result) => {
          if (!current()) return;
          if (result === undefined) return setStatus(i, `${thread.state}, nothing returned`, 'lost');
          if (result.rows > 0) {
            const rendered = result.pixels.subarray(0, result.rows * width * 4);
            context.putImageData(new ImageData(rendered, width, result.rows), 0, y0);
          }
          if (result.stoppedAt === undefined) return setStatus(i, `finished: all ${result.rows} rows`, 'kept');
          const late = result.stoppedAt - interruptedAt[i];
          setStatus(
            i,
            `interrupted: stopped ${late.toFixed(2)} ms after its interrupt, kept ${rowsText(result.rows)}`,
            'kept',
          );
        },
        (error) => {
          if (!current()) return;
          setStatus(
            i,
            `${thread.state}: ${error.code ?? error.name}, its ${rowsText(Atomics.load(progress, i))} lost`,
            'lost',
          );
        },
      )
      .finally(() => {
        if (current()) document.body.dataset.settled = String(++settled);
      });
  }
}

function showProgress() {
  for (let i = 0; i < THREADS; i++) rowCells[i].textContent = String(Atomics.load(progress, i));
  requestAnimationFrame(showProgress);
}

document.getElementById('render').onclick = render;
document.getElementById('interrupt-all').onclick = () => {
  const at = now();
  for (let i = 0; i < THREADS; i++) interruptedAt[i] = at;
  interruptAllThreads();
};
document.getElementById('terminate-all').onclick = () => {
  for (const thread of threads) void thread.terminate();
};
requestAnimationFrame(showProgress);
document.body.dataset.ready = '1';
