/**
 * The browser's side of ./node-stacks.ts: a page cannot pause its workers to read their stacks
 * (no inspector), so a shutdown report names the threads that did not stop without a stack.
 */

export type Stacks = Map<number, string>;

export const IDLE_STACK = '(idle: no JavaScript running; waiting in its event loop)';

/** Empty: no stack can be taken from a browser's worker. */
export async function captureStacks(_threadIds: readonly number[], _budgetMs: number): Promise<Stacks> {
  return new Map();
}
