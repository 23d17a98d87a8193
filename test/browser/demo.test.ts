/**
 * The web demo (examples/web/, npm run demo:web) in Chromium and Firefox: clicks its buttons as
 * a person would and reads what the page says. Screenshots go to .tmp/browser-screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { launchBrowser } from '../../scripts/browsers.mjs';
import { startServer } from '../../scripts/serve.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const screenshots = join(root, '.tmp', 'browser-screenshots');

// Every pixel inside the set (the main cardioid) costs all its iterations: a band takes tens of
// seconds, so every thread is still rendering when the buttons are clicked.
const SLOW = '?iterations=200000&x=-0.2&y=0&span=0.01';

async function statuses(page: Page): Promise<string[]> {
  return page.$$eval('#threads tr td:nth-child(3)', (cells) => cells.map((cell) => cell.textContent ?? ''));
}

async function renderUntilEveryBandHasRows(page: Page): Promise<void> {
  await page.click('#render');
  await page.waitForFunction(
    () => [...document.querySelectorAll('#threads tr td:nth-child(2)')].every((cell) => Number(cell.textContent) > 0),
    { timeout: 60_000 },
  );
}

for (const name of ['chromium', 'firefox'] as const) {
  describe(`the web demo in ${name}`, () => {
    let server: Awaited<ReturnType<typeof startServer>>;
    let browser: Browser;
    let page: Page;

    before(async () => {
      mkdirSync(screenshots, { recursive: true });
      server = await startServer();
      browser = await launchBrowser(name);
      page = await browser.newPage();
      await page.setViewport({ width: 900, height: 760 });
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    it('interrupts one thread, then all: each stops mid-band and keeps its rows', async (t) => {
      await page.goto(`${server.url}/examples/web/${SLOW}`);
      await page.waitForFunction(() => document.body.dataset.ready === '1');
      await renderUntilEveryBandHasRows(page);
      await page.click('#interrupt-1');
      await page.waitForFunction(
        () =>
          document.querySelector('#threads tr:nth-child(2) td:nth-child(3)')?.textContent?.startsWith('interrupted'),
        { timeout: 20_000 },
      );
      await page.click('#interrupt-all');
      await page.waitForFunction(() => document.body.dataset.settled === '4', { timeout: 20_000 });
      const path = join(screenshots, `demo-interrupted-${name}.png`);
      await page.screenshot({ path });
      t.diagnostic(`screenshot: ${path}`);
      for (const status of await statuses(page)) {
        const match = /^interrupted: stopped (-?[\d.]+) ms after its interrupt, kept (\d+) rows?$/.exec(status);
        assert.ok(match, status);
        t.diagnostic(status);
        // Mid-band: a band has 100 rows, and this one takes tens of seconds to render.
        assert.ok(Number(match[2]) > 0 && Number(match[2]) < 100, status);
        // After its interrupt, on clocks an isolated page coarsens to 5-20 us (and may jitter).
        assert.ok(Number(match[1]) > -0.1, status);
      }
    });

    it('terminates every worker: their rows are lost', async (t) => {
      await page.goto(`${server.url}/examples/web/${SLOW}`);
      await page.waitForFunction(() => document.body.dataset.ready === '1');
      await renderUntilEveryBandHasRows(page);
      await page.click('#terminate-all');
      await page.waitForFunction(() => document.body.dataset.settled === '4', { timeout: 20_000 });
      const path = join(screenshots, `demo-terminated-${name}.png`);
      await page.screenshot({ path });
      t.diagnostic(`screenshot: ${path}`);
      for (const status of await statuses(page)) {
        assert.match(status, /^terminated: ERR_THREAD_TERMINATED, its \d+ rows? lost$/);
      }
    });

    it('renders the whole picture when nothing interrupts it', async (t) => {
      await page.goto(`${server.url}/examples/web/?iterations=2000`);
      await page.waitForFunction(() => document.body.dataset.ready === '1');
      await page.click('#render');
      await page.waitForFunction(() => document.body.dataset.settled === '4', { timeout: 60_000 });
      const path = join(screenshots, `demo-finished-${name}.png`);
      await page.screenshot({ path });
      t.diagnostic(`screenshot: ${path}`);
      assert.deepEqual(await statuses(page), Array(4).fill('finished: all 100 rows'));
    });
  });
}
