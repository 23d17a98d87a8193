import type { Browser } from 'puppeteer-core';

export const BROWSERS: { readonly chromium: string; readonly firefox: string };

export function launchBrowser(name: 'chromium' | 'firefox'): Promise<Browser>;
