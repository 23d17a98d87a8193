// Launches Debian's Chromium and Firefox ESR headless through puppeteer-core, for the browser
// tests, benchmarks and the demo's test. puppeteer-core, not playwright-core: Playwright drives
// only its own patched Firefox (with Debian's firefox-esr, launch() fails: the browser exits at
// once, having no Juggler protocol), while puppeteer-core drives the stock Firefox through
// WebDriver BiDi and Chromium through the DevTools protocol, with one API for both.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

/** The browsers, by name: where Debian installs them (apt-get install chromium firefox-esr). */
export const BROWSERS = {
  chromium: '/usr/bin/chromium',
  firefox: '/usr/bin/firefox-esr',
};

// What Chromium needs on this machine: no sandbox (root), no GPU, nothing that reaches the network.
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts `name` headless with a fresh profile, removed on close.
 * @param {'chromium' | 'firefox'} name
 */
export async function launchBrowser(name) {
  const profile = mkdtempSync(join(tmpdir(), `graceful-threads-${name}-`));
  const common = { headless: true, timeout: 60_000, protocolTimeout: 120_000, userDataDir: profile };
  const browser =
    name === 'chromium'
      ? await puppeteer.launch({
          ...common,
          browser: 'chrome',
          executablePath: BROWSERS.chromium,
          args: CHROMIUM_FLAGS,
        })
      : await puppeteer.launch({ ...common, browser: 'firefox', executablePath: BROWSERS.firefox });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    try {
      await close();
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  };
  return browser;
}
