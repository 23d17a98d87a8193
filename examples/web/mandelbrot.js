// A thread of the web demo: renders rows [y0, y1) of the Mandelbrot set into its own buffer,
// polling its interruption flag at every pixel. Interrupted, it returns what it has rendered
// (join() hands it to the page); terminated, that work is lost with the worker.
import { interruptionRequested } from '/node_modules/graceful-threads/dist/browser/index.js';

/** Milliseconds on a clock every thread of the page shares (performance.now() is per thread). */
const now = () => performance.timeOrigin + performance.now();

export default function renderBand(band, progress, slot) {
  const { width, height, y0, y1, maxIterations, centerX, centerY, scale } = band;
  const pixels = new Uint8ClampedArray((y1 - y0) * width * 4);
  let rows = 0;
  let stoppedAt;
  render: for (let y = y0; y < y1; y++) {
    const ci = centerY + (y - height / 2) * scale;
    for (let x = 0; x < width; x++) {
      if (interruptionRequested()) {
        stoppedAt = now();
        break render;
      }
      const cr = centerX + (x - width / 2) * scale;
      let zr = 0;
      let zi = 0;
      let n = 0;
      while (n < maxIterations && zr * zr + zi * zi <= 4) {
        const t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        n++;
      }
      const offset = ((y - y0) * width + x) * 4;
      const shade = n === maxIterations ? 0 : 255 * Math.sqrt(n / maxIterations);
      pixels[offset] = shade * 0.5;
      pixels[offset + 1] = shade * 0.8;
      pixels[offset + 2] = 40 + shade;
      pixels[offset + 3] = 255;
    }
    rows++;
    Atomics.store(progress, slot, rows);
  }
  return { pixels, rows, stoppedAt };
}
