/**
 * A scheduler for real threads running the real control-block code (loom/jcstress style): every
 * atomic operation of a participant waits for the scheduler's go, so each schedule is one random
 * interleaving, a participant can be killed between any two of its operations (as
 * `worker.terminate()` may stop it), and waits are modelled so that a lost wake-up shows as a
 * sleeper blocked on a flag that is set.
 */

import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import {
  allocateSlot,
  type ControlBlock,
  createControlBlock,
  LIVE,
  type SlotRef,
  slotWords,
} from '../src/control-block.ts';

const TURN = 0;
const CLOCK = 1;
const NOTIFIED = 2;
const ROUND = 3;
const STOP = 4;
const JOB = 5;
const SEEN = 8;
const PER = 16;
const P = {
  state: 0,
  blockedOn: 1,
  timeout: 2,
  result: 3,
  outcome: 4,
  reasonTag: 5,
  reasonCount: 6,
  error: 7,
  kill: 8,
  value: 9,
};
const State = { idle: 0, running: 1, blocked: 2, done: 3, failed: 4 };
/** The layout of the scheduler's control words, handed to each participant with its workerData. */
const LAYOUT = { TURN, CLOCK, NOTIFIED, ROUND, STOP, JOB, SEEN, PER, P, State };

/** What one participant does in a schedule. */
export interface Role {
  readonly role: 'interrupter' | 'interruptAll' | 'sleeper' | 'parker' | 'reuser' | 'releaser' | 'spawner' | 'churner';
  readonly params: Record<string, unknown>;
  /** When set, the participant is killed before this operation (0-based) if it gets that far. */
  readonly killAt?: number | undefined;
  /** The slot the participant's thread lives in, released by the releaser if it is killed. */
  readonly slot?: number;
}

/** How a schedule ended, for the scenario's checks. */
export interface ScheduleResult {
  readonly outcomes: number[];
  readonly reasonTags: number[];
  readonly reasonCounts: number[];
  readonly killed: boolean[];
  readonly steps: number;
  /** A sleeper was left blocked on a flag that is set: nothing will ever wake it. */
  readonly lostWakeUp: boolean;
}

/** A seeded PRNG (mulberry32), so that a failing schedule can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Compiles src/control-block.ts (it imports nothing) to a module plain workers can load on any Node. */
export function compileProtocol(): string {
  const source = readFileSync(new URL('../src/control-block.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  // A directory of its own: two test runs in one tree must not load each other's half-written file.
  const parent = fileURLToPath(new URL('../.tmp/', import.meta.url));
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'protocol-'));
  writeFileSync(join(dir, 'control-block.tmp'), outputText);
  renameSync(join(dir, 'control-block.tmp'), join(dir, 'control-block.mjs'));
  return pathToFileURL(join(dir, 'control-block.mjs')).href;
}

/** Invariants that hold between any two operations, whatever the interleaving. */
export function checkInvariants(block: ControlBlock): void {
  for (let slot = 0; slot < block.capacity; slot++) {
    const words = slotWords(block, slot);
    if ((words.flag & LIVE) === 0 && (words.flag & 3) !== 0) {
      throw new Error(`free slot ${slot} has flag bits set (word ${words.flag})`);
    }
    if ((words.flag & LIVE) !== 0 && words.owner === 0) throw new Error(`live slot ${slot} has no owner`);
  }
}

export class Scheduler {
  readonly block: ControlBlock;
  readonly #ctl = new Int32Array(new SharedArrayBuffer(4 * (16 + 8 * PER)));
  readonly #setup = new SharedArrayBuffer(64 * 1024);
  readonly #workers: (Worker | undefined)[] = [];
  /** Workers told to terminate, until they have stopped. */
  readonly #terminating: Promise<number>[] = [];
  /** The round each worker was spawned for: it has read no setup before that one. */
  readonly #spawnedFor: number[] = [];
  readonly #moduleHref = compileProtocol();
  #round = 0;

  constructor(capacity: number) {
    this.block = createControlBlock(capacity);
  }

  #spawn(id: number): Worker {
    const worker = new Worker(new URL('./fixtures/protocol-participant.mjs', import.meta.url), {
      workerData: {
        moduleHref: this.#moduleHref,
        ctlBuffer: this.#ctl.buffer,
        setupBuffer: this.#setup,
        memory: this.block.memory,
        id,
        firstRound: this.#round + 1,
        layout: LAYOUT,
      },
      stderr: false,
    });
    worker.unref();
    this.#workers[id] = worker;
    this.#spawnedFor[id] = this.#round + 1;
    return worker;
  }

  /** Zeroes the block and allocates `slots` root-owned slots; returns their refs. */
  reset(slots: number, parents: (number | undefined)[] = []): SlotRef[] {
    new Int32Array(this.block.memory.control).fill(0);
    new Uint8Array(this.block.memory.reasons).fill(0);
    Atomics.store(this.block.words, 1, this.block.capacity);
    const refs: SlotRef[] = [];
    for (let i = 0; i < slots; i++) refs.push(allocateSlot(this.block, parents[i])!);
    return refs;
  }

  #field(id: number, name: keyof typeof P): number {
    return 16 + id * PER + P[name];
  }

  #waitForScheduler(what: string): void {
    const deadline = performance.now() + 20_000;
    for (let turn = Atomics.load(this.#ctl, TURN); turn !== -1; turn = Atomics.load(this.#ctl, TURN)) {
      if (performance.now() > deadline) throw new Error(`participant ${turn} did not hand back the turn (${what})`);
      Atomics.wait(this.#ctl, TURN, turn, 100);
    }
  }

  /** Runs one schedule of `roles`, choosing each step with `rand`. */
  async run(roles: Role[], rand: () => number, gens: number[]): Promise<ScheduleResult> {
    try {
      const result = await this.#run(roles, rand, gens);
      // A worker told to terminate runs on until Node stops it: blocked on the turn word, it
      // would take the next schedule's turn for the same id as a ghost participant. Wait for it.
      await Promise.all(this.#terminating.splice(0));
      return result;
    } catch (error) {
      // Workers left mid-schedule would fail every later schedule: start afresh.
      await this.close();
      throw error;
    }
  }

  async #run(roles: Role[], rand: () => number, gens: number[]): Promise<ScheduleResult> {
    const ctl = this.#ctl;
    const n = roles.length;
    // Every worker, with a role last round or not, must have read the last setup before it is
    // overwritten (one still reading would take the next round's setup for its own).
    const acked = performance.now() + 20_000;
    for (let id = 0; id < this.#workers.length; id++) {
      if (this.#workers[id] === undefined || this.#spawnedFor[id]! > this.#round) continue;
      while (Atomics.load(ctl, SEEN + id) < this.#round) {
        if (performance.now() > acked) throw new Error(`participant ${id} did not read round ${this.#round}`);
        const wait = Atomics.waitAsync(ctl, SEEN + id, Atomics.load(ctl, SEEN + id), 20);
        if (wait.async) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    for (let id = 0; id < n; id++) {
      if (this.#workers[id] === undefined) this.#spawn(id);
      for (let i = 0; i < PER; i++) Atomics.store(ctl, 16 + id * PER + i, 0);
    }
    for (const i of [TURN, CLOCK, NOTIFIED, STOP, JOB]) Atomics.store(ctl, i, 0);
    Atomics.store(ctl, TURN, -1);
    const participants = roles.map((r) => ({ role: r.role, params: { ...r.params, gens } }));
    const json = new TextEncoder().encode(JSON.stringify({ participants }));
    new Int32Array(this.#setup, 0, 1)[0] = json.length;
    new Uint8Array(this.#setup).set(json, 4);
    Atomics.store(ctl, ROUND, ++this.#round);
    Atomics.notify(ctl, ROUND);
    // A new worker loads its module with help from this thread's event loop: wait without blocking.
    const deadline = performance.now() + 20_000;
    for (let id = 0; id < n; id++) {
      while (Atomics.load(ctl, this.#field(id, 'state')) !== State.running) {
        if (performance.now() > deadline) throw new Error(`participant ${id} did not start`);
        const wait = Atomics.waitAsync(ctl, this.#field(id, 'state'), State.idle, 20);
        if (wait.async) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    const ops = new Array<number>(n).fill(0);
    const killed = new Array<boolean>(n).fill(false);
    const releaser = roles.findIndex((r) => r.role === 'releaser');
    // Half the schedules pick uniformly at random; the other half follow PCT (Burckhardt et al.,
    // "A randomized scheduler with probabilistic guarantees of finding bugs", ASPLOS 2010): run the
    // highest-priority participant, and demote the running one at a few random steps, which
    // produces the long stalls (a thread descheduled for a whole operation of another) that
    // uniform choice almost never does.
    const pct = rand() < 0.5;
    const priority = roles.map(() => rand());
    const changePoints = new Set(Array.from({ length: 3 }, () => Math.floor(rand() * 60)));
    let releaserReady = false;
    let lostWakeUp = false;
    let steps = 0;
    const state = (id: number) => Atomics.load(ctl, this.#field(id, 'state'));
    for (;;) {
      const runnable: number[] = [];
      for (let id = 0; id < n; id++) {
        if (killed[id] || state(id) !== State.running) continue;
        if (id === releaser && !releaserReady) continue;
        runnable.push(id);
      }
      const timed: number[] = [];
      for (let id = 0; id < n; id++) {
        if (!killed[id] && state(id) === State.blocked && Atomics.load(ctl, this.#field(id, 'timeout')) >= 0) {
          timed.push(id);
        }
      }
      const releaserPending = releaser >= 0 && !releaserReady;
      const timeOut = (id: number): void => {
        Atomics.add(ctl, CLOCK, Atomics.load(ctl, this.#field(id, 'timeout')));
        Atomics.store(ctl, this.#field(id, 'result'), 1);
        Atomics.store(ctl, this.#field(id, 'state'), State.running);
      };
      // Now and then a bounded wait times out while others could still run: the thread it waits
      // for is stalled (descheduled) for longer than the bound.
      if (runnable.length > 0 && timed.length > 0 && rand() < 0.02) {
        timeOut(timed[Math.floor(rand() * timed.length)]!);
        continue;
      }
      if (runnable.length === 0) {
        if (releaserPending && (timed.length === 0 || rand() < 0.5)) {
          // The parent of a thread that ended normally releases its slot too.
          const ended = roles.findIndex((r, id) => r.slot !== undefined && !killed[id]);
          if (Atomics.load(ctl, JOB) === 0 && ended >= 0) Atomics.store(ctl, JOB, roles[ended]!.slot! + 1);
          releaserReady = true;
          continue;
        }
        const blocked: number[] = [];
        for (let id = 0; id < n; id++) if (state(id) === State.blocked && !killed[id]) blocked.push(id);
        if (blocked.length === 0) break;
        if (!releaserPending) {
          // Nobody left can run or notify: a waiter whose word changed was never woken.
          for (const id of blocked) {
            const index = Atomics.load(ctl, this.#field(id, 'blockedOn')) - 1;
            const waited = Atomics.load(ctl, this.#field(id, 'value'));
            if (Atomics.load(this.block.words, index) !== waited) lostWakeUp = true;
          }
          if (lostWakeUp) break;
        }
        if (timed.length > 0) {
          timeOut(timed[Math.floor(rand() * timed.length)]!);
          continue;
        }
        Atomics.store(ctl, STOP, 1);
        for (const id of blocked) {
          Atomics.store(ctl, this.#field(id, 'result'), 0);
          Atomics.store(ctl, this.#field(id, 'state'), State.running);
        }
        continue;
      }
      let id = runnable[Math.floor(rand() * runnable.length)]!;
      if (pct) {
        id = runnable.reduce((best, other) => (priority[other]! > priority[best]! ? other : best));
        if (changePoints.has(steps)) priority[id] = -steps - 1;
      }
      if (roles[id]!.killAt === ops[id]) {
        killed[id] = true;
        if (rand() < 0.1) {
          // Now and then a real worker.terminate(); otherwise the thread is told it is dead and
          // stops touching shared memory (the same to the protocol, and reusable).
          this.#terminating.push(this.#workers[id]!.terminate());
          this.#workers[id] = undefined;
        } else {
          Atomics.store(ctl, this.#field(id, 'kill'), 1);
          Atomics.store(ctl, TURN, id);
          Atomics.notify(ctl, TURN);
          this.#waitForScheduler('kill');
        }
        if (roles[id]!.slot !== undefined) {
          Atomics.store(ctl, JOB, roles[id]!.slot! + 1);
          releaserReady = true;
        }
        continue;
      }
      Atomics.store(ctl, TURN, id);
      Atomics.notify(ctl, TURN);
      this.#waitForScheduler(`${roles[id]!.role} op ${ops[id]}`);
      ops[id]!++;
      steps++;
      const notified = Atomics.exchange(ctl, NOTIFIED, 0);
      if (notified !== 0) {
        for (let other = 0; other < n; other++) {
          if (state(other) === State.blocked && Atomics.load(ctl, this.#field(other, 'blockedOn')) === notified) {
            Atomics.store(ctl, this.#field(other, 'result'), 0);
            Atomics.store(ctl, this.#field(other, 'state'), State.running);
          }
        }
      }
      if (state(id) === State.failed) throw new Error(`participant ${id} (${roles[id]!.role}) threw; see stderr`);
      checkInvariants(this.block);
      if (steps > 100_000) throw new Error('schedule did not end');
    }
    if (lostWakeUp) {
      // Free the blocked sleepers for the next schedule.
      Atomics.store(ctl, STOP, 1);
      for (let id = 0; id < n; id++) {
        if (state(id) === State.blocked) {
          killed[id] = true;
          this.#terminating.push(this.#workers[id]!.terminate());
          this.#workers[id] = undefined;
        }
      }
    }
    return {
      outcomes: roles.map((_, id) => Atomics.load(ctl, this.#field(id, 'outcome'))),
      reasonTags: roles.map((_, id) => Atomics.load(ctl, this.#field(id, 'reasonTag'))),
      reasonCounts: roles.map((_, id) => Atomics.load(ctl, this.#field(id, 'reasonCount'))),
      killed,
      steps,
      lostWakeUp,
    };
  }

  async close(): Promise<void> {
    const workers = this.#workers.splice(0);
    await Promise.all(workers.map((worker) => worker?.terminate()));
  }

  /** Stops the workers and removes the compiled protocol. */
  async dispose(): Promise<void> {
    await this.close();
    rmSync(dirname(fileURLToPath(this.#moduleHref)), { recursive: true, force: true });
  }
}
