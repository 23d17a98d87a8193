/**
 * Takes the JavaScript stack of running worker threads from outside, as a JVM thread dump does:
 * a busy thread cannot answer a message, but Node's inspector can pause it. An inspector session
 * on the calling thread attaches to its workers (the `NodeWorker` domain, nested workers through
 * their own sessions), pauses each wanted one (`Debugger.pause`, delivered by a V8 interrupt,
 * so it lands even in a loop that never yields or in `Atomics.wait`), reads the paused frames,
 * then resumes and detaches. A thread idle in its event loop runs no JavaScript to pause: it
 * has no stack to show, which is said as such.
 *
 * Bounded in time. Only while the calling thread awaits: in the process's `'exit'` event, where
 * it would have to block, Node crashed at the exit after such a capture (see src/shutdown); there
 * ./node-report-stacks.ts takes them.
 */

/** Stacks by Node thread id; a thread missing from the map could not be reached in time. */
export type Stacks = Map<number, string>;

/** What is said of a thread that ran no JavaScript during the capture. */
export const IDLE_STACK = '(idle: no JavaScript running; waiting in its event loop)';

interface Message {
  readonly id?: number;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
}

interface CallFrame {
  readonly functionName: string;
  readonly location: { readonly scriptId: string; readonly lineNumber: number; readonly columnNumber?: number };
}

interface WorkerInfo {
  /** `[worker <threadId>] <name>`. Its `workerId` is the inspector's own count, not the thread id. */
  readonly title: string;
}

function threadIdOf(info: WorkerInfo): number {
  return Number(/^\[worker (\d+)\]/.exec(info.title)?.[1] ?? -1);
}

type InspectorSession = {
  connect(): void;
  disconnect(): void;
  post(method: string, params?: object, callback?: (error: Error | null, result?: unknown) => void): void;
  on(event: string, listener: (message: { params: Record<string, unknown> }) => void): void;
};

/** One worker reached through a chain of inspector sessions. */
interface Target {
  readonly threadId: number;
  /** Sends a protocol command to this worker's own inspector. */
  send(method: string, params?: object): void;
  readonly scripts: Map<string, string>;
  /** Its own workers' sessions: session ids are numbered per parent, so each parent routes its own. */
  readonly children: Map<string, (message: Message) => void>;
  paused: boolean;
  wanted: boolean;
}

/**
 * A thread idle in its event loop has no running code for `Debugger.pause` to stop: one that has
 * not paused this long after the request is reported idle. A running thread pauses within
 * milliseconds (the request arrives as a V8 interrupt), a few tens on a loaded machine.
 */
const PAUSE_WAIT_MS = 1000;

class Capture {
  readonly #wanted: Set<number>;
  readonly stacks: Stacks = new Map();
  readonly #targets: Target[] = [];
  readonly #session: InspectorSession;
  #nextId = 1;
  #pauseRequestedAt = 0;

  constructor(session: InspectorSession, threadIds: readonly number[]) {
    this.#session = session;
    this.#wanted = new Set(threadIds);
    session.on('NodeWorker.attachedToWorker', ({ params }) => {
      const sessionId = params.sessionId as string;
      const send = (method: string, commandParams: object = {}): void => {
        const message = JSON.stringify({ id: this.#nextId++, method, params: commandParams });
        session.post('NodeWorker.sendMessageToWorker', { sessionId, message }, () => {});
      };
      this.#attached(params.workerInfo as WorkerInfo, send, sessionId, (sessionIdOf) =>
        session.post('NodeWorker.detach', { sessionId: sessionIdOf }, () => {}),
      );
    });
    session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
      route(this.#routes, params);
    });
  }

  readonly #routes = new Map<string, (message: Message) => void>();

  #attached(
    info: WorkerInfo,
    send: (method: string, params?: object) => void,
    sessionId: string,
    detach: (sessionId: string) => void,
    routes: Map<string, (message: Message) => void> = this.#routes,
  ): void {
    const threadId = threadIdOf(info);
    const target: Target = {
      threadId,
      send,
      scripts: new Map(),
      children: new Map(),
      paused: false,
      wanted: this.#wanted.has(threadId),
    };
    this.#targets.push(target);
    this.#detachers.push(() => detach(sessionId));
    routes.set(sessionId, (message) => this.#onMessage(target, message));
    // Its own workers, which only its session can see.
    send('NodeWorker.enable', { waitForDebuggerOnStart: false });
    if (target.wanted) {
      send('Debugger.enable');
      send('Debugger.pause');
      this.#pauseRequestedAt = performance.now();
    }
  }

  readonly #detachers: (() => void)[] = [];

  #onMessage(target: Target, message: Message): void {
    const params = message.params ?? {};
    switch (message.method) {
      case 'Debugger.scriptParsed':
        target.scripts.set(params.scriptId as string, params.url as string);
        return;
      case 'Debugger.paused': {
        target.paused = true;
        const frames = params.callFrames as CallFrame[];
        this.stacks.set(target.threadId, formatFrames(frames, target.scripts));
        target.send('Debugger.resume');
        target.send('Debugger.disable');
        return;
      }
      case 'NodeWorker.attachedToWorker': {
        // A nested worker: commands to it travel inside commands to its parent.
        const nestedId = params.sessionId as string;
        const send = (method: string, commandParams: object = {}): void => {
          const inner = JSON.stringify({ id: this.#nextId++, method, params: commandParams });
          target.send('NodeWorker.sendMessageToWorker', { sessionId: nestedId, message: inner });
        };
        this.#attached(
          params.workerInfo as WorkerInfo,
          send,
          nestedId,
          (id) => target.send('NodeWorker.detach', { sessionId: id }),
          target.children,
        );
        return;
      }
      case 'NodeWorker.receivedMessageFromWorker':
        route(target.children, params);
        return;
    }
  }

  /**
   * True once every wanted thread has a stack, or every one has been asked to pause and the
   * ones that did not are idle.
   */
  done(now: number): boolean {
    if (this.stacks.size === this.#wanted.size) return true;
    let asked = 0;
    for (const target of this.#targets) if (target.wanted) asked++;
    return asked === this.#wanted.size && now - this.#pauseRequestedAt >= PAUSE_WAIT_MS;
  }

  /** Says "idle" of the threads that did not pause, and lets every thread go. */
  finish(): Stacks {
    for (const target of this.#targets) {
      if (!target.wanted || target.paused) continue;
      this.stacks.set(target.threadId, IDLE_STACK);
      // Never leave a thread paused (it could not be terminated): resume one that paused just
      // now, and cancel a pause still pending, with the debugger.
      target.send('Debugger.resume');
      target.send('Debugger.disable');
    }
    // Innermost first: a nested session is reached through its parent's.
    for (const detach of this.#detachers.reverse()) detach();
    try {
      this.#session.post('NodeWorker.disable', {}, () => {});
    } catch {}
    this.#session.disconnect();
    return this.stacks;
  }
}

/** Hands a message from a worker's session to the handler of that session. */
function route(routes: ReadonlyMap<string, (message: Message) => void>, params: Record<string, unknown>): void {
  let message: Message;
  try {
    message = JSON.parse(params.message as string) as Message;
  } catch {
    return;
  }
  routes.get(params.sessionId as string)?.(message);
}

function formatFrames(frames: readonly CallFrame[], scripts: ReadonlyMap<string, string>): string {
  return frames
    .map(({ functionName, location }) => {
      const url = scripts.get(location.scriptId) || '<anonymous>';
      const where = `${url}:${location.lineNumber + 1}:${(location.columnNumber ?? 0) + 1}`;
      return `    at ${functionName === '' ? where : `${functionName} (${where})`}`;
    })
    .join('\n');
}

function openSession(threadIds: readonly number[]): Capture | undefined {
  if (threadIds.length === 0) return undefined;
  let Session: new () => InspectorSession;
  try {
    ({ Session } = process.getBuiltinModule('node:inspector') as unknown as {
      Session: new () => InspectorSession;
    });
  } catch {
    return undefined; // a Node built without the inspector
  }
  const session = new Session();
  session.connect();
  const capture = new Capture(session, threadIds);
  session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, () => {});
  return capture;
}

/**
 * The JavaScript stacks of the calling thread's workers (nested ones included) with these Node
 * thread ids, within `budgetMs`.
 */
export async function captureStacks(threadIds: readonly number[], budgetMs: number): Promise<Stacks> {
  const capture = openSession(threadIds);
  if (capture === undefined) return new Map();
  const deadline = performance.now() + budgetMs;
  try {
    for (;;) {
      const now = performance.now();
      if (capture.done(now) || now >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    capture.finish();
  }
  return capture.stacks;
}
