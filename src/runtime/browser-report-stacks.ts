/**
 * The browser's side of ./node-report-stacks.ts: a page has no diagnostic report of its workers,
 * and no process `'exit'` in which a shutdown would need one.
 */
import type { Stacks } from './browser-stacks.js';

/** Empty: no stack can be taken from a browser's worker. */
export function reportStacks(_threadIds: readonly number[]): Stacks {
  return new Map();
}
