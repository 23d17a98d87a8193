/**
 * Starting a thread in a browser, as its spawner: a module Web Worker whose entry (a small module
 * made here, loaded from a blob: URL) keeps the start data where the package finds it, then
 * imports the target; and the report channel on which the spawner hears the thread's outcome
 * and, last, its end (a Web Worker's spawner hears no `'exit'`).
 */

import {
  baseHref,
  EXIT_KEY,
  FAILED_KEY,
  type MessagePort,
  START_HOLDER,
  scope,
  type WebWorker,
} from './browser-context.js';
import type { ReportChannel as Channel, WorkerEvents } from './contract.js';

export type { WorkerEvents };
/** The private channel a thread reports its outcome on, as its spawner holds it. */
export type ReportChannel = Channel<MessagePort>;

import { packageNotImported, unsupportedInBrowser, workerNotStarted } from './browser-errors.js';

/** What a thread is started with: the start data and what must be transferred to the thread. */
export interface WorkerOptions {
  name?: string;
  workerData?: unknown;
  transferList?: readonly unknown[];
  // The Node-only options of ThreadOptions, which a Web Worker has no use for.
  env?: unknown;
  execArgv?: string[];
  argv?: unknown[];
  resourceLimits?: unknown;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** A thread's Web Worker, with a thread id and a `terminate()` that resolves as Node's does. */
export interface Worker {
  readonly threadId: number;
  /** The Web Worker itself. */
  readonly webWorker: WebWorker;
  /** Stops the worker at once; resolves with exit code 1. */
  terminate(): Promise<number>;
}

/** The entry a thread falls back to when its module does not import the package: only this build unbundled. */
function fallbackEntry(entry: URL): string | undefined {
  // Bundled, import.meta.url is the bundle's chunk, which holds the app as well.
  return /\/dist\/browser\/index\.js$/.test(entry.pathname) ? entry.href : undefined;
}

/** The error a worker's entry could not run its thread for, as it posts it. */
interface EntryFailure {
  /** The target module failed to load (a browser error, as cloned), or it loaded without the package. */
  readonly error?: unknown;
  readonly packageMissing: boolean;
}

interface OpenChannel {
  readonly queue: unknown[];
  onExit: ((exitCode: number) => void) | undefined;
  /** Called with the reason a worker's entry could not run the thread, before its end. */
  onEntryFailure: ((failure: EntryFailure) => void) | undefined;
  /** Called after each message is queued. */
  onQueued: (() => void) | undefined;
}

// Report ports by their thread end, so that startWorker can hear the end on the channel.
const channels = new WeakMap<object, OpenChannel>();

/** Opens a {@link ReportChannel}: its messages are queued as they arrive, in order. */
export function openReportChannel(): ReportChannel {
  const { port1, port2 } = new MessageChannel() as unknown as { port1: MessagePort; port2: MessagePort };
  const open: OpenChannel = { queue: [], onExit: undefined, onEntryFailure: undefined, onQueued: undefined };
  port1.onmessage = ({ data }) => {
    const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
    const exit = fields[EXIT_KEY];
    if (typeof exit === 'number') open.onExit?.(exit);
    else if (FAILED_KEY in fields) open.onEntryFailure?.(fields[FAILED_KEY] as EntryFailure);
    else {
      open.queue.push(data);
      open.onQueued?.();
    }
  };
  channels.set(port2, open);
  return {
    threadEnd: port2,
    takeAll: () => open.queue.splice(0),
    close: () => port1.close(),
  };
}

/** How long a terminated thread whose target had settled gets for its outcome to arrive (a bound: it was posted). */
const LAST_WORDS_MS = 1000;

// The worker's entry: keeps the start data where the package finds it, then imports the target,
// which imports the package. A target that does not import it gets the copy that started it,
// when that is this build unbundled; else, or should that fail to load, the thread ends with
// exit code 1 rather than never, having said why (the error its module failed with, or that it
// does not import the package), which join() rejects with.
const ENTRY = `addEventListener('message', (event) => {
  const start = event.data;
  const holder = { ...start, loading: import(start.moduleHref).then(() => undefined, (error) => error) };
  globalThis[Symbol.for(${JSON.stringify(START_HOLDER.description)})] = holder;
  const fail = (failure) => {
    try {
      start.exitPort.postMessage({ ${JSON.stringify(FAILED_KEY)}: failure });
    } catch {
      start.exitPort.postMessage({ ${JSON.stringify(FAILED_KEY)}: { packageMissing: false, error: String(failure.error) } });
    }
    start.exitPort.postMessage({ ${JSON.stringify(EXIT_KEY)}: 1 });
    close();
  };
  holder.loading.then((loadError) => {
    if (holder.runtimeLoaded) return;
    if (start.libraryHref === undefined) return fail(loadError === undefined ? { packageMissing: true } : { packageMissing: false, error: loadError });
    return import(start.libraryHref).catch((error) => fail({ packageMissing: false, error }));
  });
}, { once: true });
`;

let entryUrl: string | undefined;

/** The start data of one thread, as the package's thread module writes it under its key. */
function describedStart(workerData: unknown): { readonly moduleHref: string; readonly slot: number } {
  for (const value of Object.values(workerData as object)) {
    const { moduleHref, slot } = value as { moduleHref?: unknown; slot?: unknown };
    if (typeof moduleHref === 'string' && typeof slot === 'number') return { moduleHref, slot };
  }
  throw new TypeError('graceful-threads: a thread was started without its start data');
}

/** Starts `entry`'s package in a new module Web Worker, running the target its start data names. */
export function startWorker(entry: URL, options: WorkerOptions, events: WorkerEvents): Worker {
  const WorkerClass = scope.Worker;
  if (WorkerClass === undefined) {
    throw unsupportedInBrowser(
      'Starting a thread from this context (a service worker or a worklet has no Worker)',
      'Start threads from a page or a dedicated worker.',
    );
  }
  const transfer = options.transferList ?? [];
  const report = transfer.map((port) => channels.get(port as object)).find((open) => open !== undefined);
  if (report === undefined) throw new TypeError('graceful-threads: a thread was started without its report port');
  const { moduleHref, slot } = describedStart(options.workerData);
  entryUrl ??= URL.createObjectURL(new Blob([ENTRY], { type: 'text/javascript' }));
  const webWorker = new WorkerClass(entryUrl, {
    type: 'module',
    ...(options.name === undefined ? {} : { name: options.name }),
  });
  const threadId = slot + 1;
  let exited = false;
  let heardEnd: (() => void) | undefined;
  const exit = (exitCode: number): void => {
    if (exited) return;
    exited = true;
    report.onExit = undefined;
    report.onEntryFailure = undefined;
    webWorker.terminate();
    events.onExit(exitCode);
    heardEnd?.();
  };
  report.onExit = exit;
  report.onEntryFailure = ({ error, packageMissing }) => {
    events.onError(
      packageMissing ? packageNotImported(moduleHref) : (error ?? new Error(`the module ${moduleHref} failed to load`)),
    );
  };
  webWorker.addEventListener('error', (event) => {
    // An uncaught error the worker did not handle (an ErrorEvent): its crash report and end
    // follow on the port. A plain Event: the worker could not load its entry, and will never
    // post anything; without this its join() would wait for ever.
    event.preventDefault();
    if (typeof event.message === 'string' || exited) return;
    events.onError(workerNotStarted(options.name ?? 'a thread'));
    exit(1);
  });
  const start = {
    workerData: options.workerData,
    threadId,
    baseHref: baseHref(),
    exitPort: transfer.find((port) => channels.has(port as object)),
    moduleHref,
    libraryHref: fallbackEntry(entry),
  };
  // Throws a DataCloneError for args that cannot be cloned, as `new Worker` does in Node.
  try {
    webWorker.postMessage(start, transfer);
  } catch (error) {
    webWorker.terminate();
    throw error;
  }
  return {
    threadId,
    webWorker,
    terminate: async () => {
      webWorker.terminate();
      // A thread that has said its end in shared memory (a shutdown terminates such threads)
      // posted its outcome or the error it died of before that, and its end marker last, on the
      // same port: wait for the marker, which comes after them (a bound: it was posted).
      if (!exited && events.threadEnded?.() === true) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, LAST_WORDS_MS);
          heardEnd = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        heardEnd = undefined;
      }
      // A thread whose target settled posted its outcome first, which may not have arrived yet
      // (a Node worker's 'exit' comes after its messages; a Web Worker says nothing of its end).
      if (!exited && report.queue.length === 0 && events.targetSettled?.() === true) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, LAST_WORDS_MS);
          report.onQueued = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        report.onQueued = undefined;
      }
      exit(1);
      return 1;
    },
  };
}
