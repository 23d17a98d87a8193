/**
 * Takes the JavaScript stacks of worker threads synchronously, through Node's diagnostic report:
 * for the process's `'exit'` event, where the main thread cannot await the inspector (and where
 * pausing a worker through it made Node crash at the exit, see src/shutdown).
 *
 * `process.report.getReport()` asks every worker (nested ones through their parents) for a report
 * of its own with a V8 interrupt, which lands in running JavaScript and in `Atomics.wait`, and
 * with its event loop's async handle, which an idle thread answers. It waits for every answer
 * without a timeout (src/node_report.cc, the `workers` section): a worker blocked in a native
 * call (a synchronous read of a pipe) holds it until the call returns. Node's own exit waits for
 * that thread as long (it joins every worker), so it adds no hang of its own.
 */
import { IDLE_STACK, type Stacks } from './node-stacks.js';

interface ThreadReport {
  readonly header?: { readonly threadId?: number };
  readonly javascriptStack?: { readonly message?: string; readonly stack?: readonly string[] };
  readonly workers?: readonly ThreadReport[];
}

interface ReportApi {
  getReport(): ThreadReport;
  excludeNetwork?: boolean;
  excludeEnv?: boolean;
}

/**
 * Parts of the report of no use here, left out while it is taken (where the Node has the switch).
 * They trim the calling thread's own part only: each worker writes its part with its own settings.
 */
const EXCLUDED = ['excludeNetwork', 'excludeEnv'] as const;

/**
 * The report, where it has workers' stacks: Node's does. Bun's and Deno's `process.report` are
 * not relied on for them (not checked against either; see test/runtime-gaps.mjs).
 */
function nodeReport(): ReportApi | undefined {
  if (process.versions.bun !== undefined || (globalThis as { Deno?: unknown }).Deno !== undefined) return undefined;
  const report = (process as { report?: Partial<ReportApi> }).report;
  return typeof report?.getReport === 'function' ? (report as ReportApi) : undefined;
}

/** `at fn (url:line:column)` as the inspector route writes it; an anonymous frame without `()`. */
function formatStack(stack: readonly string[]): string {
  return stack.map((line) => `    ${line.replace(/^at {2}\((.*)\)$/, 'at $1')}`).join('\n');
}

function collect(reports: readonly ThreadReport[] | undefined, wanted: ReadonlySet<number>, stacks: Stacks): void {
  for (const report of reports ?? []) {
    const threadId = report.header?.threadId;
    const stack = report.javascriptStack?.stack;
    if (threadId !== undefined && wanted.has(threadId) && stack !== undefined) {
      // A thread idle in its event loop answers between two callbacks: no JavaScript on its stack,
      // which Node writes as it writes a stack it could not read ('No stack.', 'Unavailable.').
      // A thread still running after the grace period with no JavaScript on its stack is idle.
      const idle = report.javascriptStack?.message === 'No stack.' || stack.length === 0;
      stacks.set(threadId, idle ? IDLE_STACK : formatStack(stack));
    }
    collect(report.workers, wanted, stacks);
  }
}

/**
 * The JavaScript stacks of the calling thread's workers (nested ones included) with these Node
 * thread ids, synchronously. Empty where the runtime's report has no workers' stacks.
 */
export function reportStacks(threadIds: readonly number[]): Stacks {
  const stacks: Stacks = new Map();
  const api = threadIds.length === 0 ? undefined : nodeReport();
  if (api === undefined) return stacks;
  // Runs in the process's 'exit' listener: nothing may throw out of it, or the shutdown's report
  // is lost. A report that cannot be made leaves the stacks not available.
  const turnedOn: (typeof EXCLUDED)[number][] = [];
  try {
    for (const key of EXCLUDED) {
      if (api[key] !== false) continue;
      api[key] = true;
      turnedOn.push(key);
    }
    collect(api.getReport().workers, new Set(threadIds), stacks);
  } catch {
    // Not available: said so per thread by the caller.
  } finally {
    for (const key of turnedOn) {
      try {
        api[key] = false;
      } catch {
        // Left as the report's own setter made it.
      }
    }
  }
  return stacks;
}
