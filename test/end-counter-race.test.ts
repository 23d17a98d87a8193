/**
 * A shutdown's wait for its threads' ends against real threads ending at once: only the last of
 * the threads it knows of wakes it (the end target beside the end counter, src/control-block.ts),
 * so a wake-up lost to a race there would leave it waiting. The test suite waits without the
 * production's 100 ms re-check (helpers.ts sets the slice), so a lost wake-up shows as a shutdown
 * that runs out its grace period (30 s, where the threads end within milliseconds).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { allocateSlot, type ControlBlock, createControlBlock, liveSlots, releaseSlot } from '../src/control-block.ts';
import { syncArray, waitFor, within } from './helpers.ts';
import { compileProtocol } from './protocol-harness.ts';

await import('../src/thread.ts');
const { runShutdown, runShutdownSync } = await import('../src/shutdown/shutdown.ts');

const fixture = new URL('./fixtures/end-counter.mjs', import.meta.url);
const moduleHref = compileProtocol();
const ROUND = 0;
const READY = 1;
const PER = 5;
const Role = { end: 0, hang: 1, parent: 2, child: 3 } as const;
type RoleName = keyof typeof Role;
/** Long enough never to run out but on a lost wake-up. */
const GRACE_MS = 30_000;

/** Plain workers that play the threads of `block`, round after round. */
class Participants {
  readonly ctl = syncArray(2 + 16 * PER);
  readonly #workers: Worker[] = [];
  readonly #exited: Promise<void>[] = [];
  #round = 0;

  constructor(
    readonly block: ControlBlock,
    count: number,
  ) {
    for (let id = 0; id < count; id++) this.#spawn(id);
  }

  #spawn(id: number): void {
    const worker = new Worker(fixture, {
      workerData: { moduleHref, memory: this.block.memory, ctlBuffer: this.ctl.buffer, id, round: this.#round },
    });
    this.#workers[id] = worker;
    this.#exited[id] = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /**
   * Starts a round: a root-owned slot for each role but 'child' (its parent takes it), and waits
   * until every worker has read its slot. Returns the slots, by worker.
   */
  async start(roles: readonly RoleName[]): Promise<(ReturnType<typeof allocateSlot> | undefined)[]> {
    const { ctl, block } = this;
    Atomics.store(ctl, READY, 0);
    const refs = roles.map((role, id) => {
      const ref = role === 'child' ? undefined : allocateSlot(block, undefined)!;
      Atomics.store(ctl, 2 + id * PER, ref?.slot ?? -1);
      Atomics.store(ctl, 2 + id * PER + 1, ref?.gen ?? 0);
      Atomics.store(ctl, 2 + id * PER + 2, Role[role]);
      // The parent's child is the next worker.
      Atomics.store(ctl, 2 + id * PER + 3, id + 1);
      return ref;
    });
    Atomics.store(ctl, ROUND, ++this.#round);
    Atomics.notify(ctl, ROUND);
    await waitFor(ctl, READY, roles.length);
    return refs;
  }

  /** Terminates worker `id` after a random moment, frees its slot as a parent does on 'exit', and replaces it. */
  async terminate(id: number, ref: NonNullable<ReturnType<typeof allocateSlot>>): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
    await this.#workers[id]!.terminate();
    await this.#exited[id];
    releaseSlot(this.block, ref);
    this.#spawn(id);
  }

  /** Frees every slot left (the ended threads'), for the next round. */
  clear(): void {
    for (const ref of [...liveSlots(this.block)]) releaseSlot(this.block, ref);
  }

  /** Ends the workers (terminated: after a failed round, some may still wait for an interrupt). */
  async close(): Promise<void> {
    await within(Promise.all(this.#workers.map((worker) => worker.terminate())), 20_000, 'the participants');
  }
}

function assertAllEnded(
  report: { ended: readonly unknown[]; terminated: readonly unknown[]; ms: number },
  count: number,
  what: string,
) {
  assert.equal(report.terminated.length, 0, `${what}: a thread that had ended was reported stuck (a lost wake-up)`);
  assert.equal(report.ended.length, count, what);
  // The threads end within milliseconds of their interrupt; a shutdown nobody woke sees their ends
  // only as its grace period runs out, and its last scan then finds them all ended.
  assert.ok(
    report.ms < GRACE_MS / 2,
    `${what}: the shutdown waited out its grace period (${report.ms} ms): a lost wake-up`,
  );
}

describe('the wait of a shutdown for the ends of its threads', () => {
  it('wakes when the last of 12 threads ending at once has ended, in a waiting event loop and in a blocked thread', async () => {
    const block = createControlBlock(64);
    const threads = new Participants(block, 12);
    try {
      for (let round = 0; round < 40; round++) {
        await threads.start(Array.from({ length: 12 }, () => 'end' as const));
        const what = `round ${round}`;
        const report =
          round % 2 === 0
            ? await within(runShutdown(block, undefined, GRACE_MS, { forceNow: undefined }), 60_000, 'the shutdown')
            : runShutdownSync(block, undefined, GRACE_MS);
        assertAllEnded(report, 12, what);
        threads.clear();
      }
    } finally {
      await threads.close();
    }
  });

  it('learns of threads terminated before they mark their end, as their slots are freed', async () => {
    // A terminated thread never bumps the counter itself: the free of its slot must, or the
    // shutdown waits for it for ever.
    const block = createControlBlock(64);
    const threads = new Participants(block, 8);
    try {
      for (let round = 0; round < 20; round++) {
        const roles = Array.from({ length: 8 }, (_, id) => (id < 1 + (round % 4) ? 'hang' : 'end') as RoleName);
        const refs = await threads.start(roles);
        const shutdown = runShutdown(block, undefined, GRACE_MS, { forceNow: undefined });
        const terminated = roles.flatMap((role, id) => (role === 'hang' ? [threads.terminate(id, refs[id]!)] : []));
        const report = await within(shutdown, 60_000, 'the shutdown');
        await within(Promise.all(terminated), 20_000, 'the terminations');
        assertAllEnded(report, 8, `round ${round}`);
        threads.clear();
      }
    } finally {
      await threads.close();
    }
  });

  it('finds a thread started during the shutdown that a thread it waits for waits for', async () => {
    // Every thread the shutdown knows of waits, one of them for a thread it starts once
    // interrupted: taking that thread's slot must wake the shutdown, or nothing ever does.
    const block = createControlBlock(64);
    const threads = new Participants(block, 6);
    try {
      for (let round = 0; round < 20; round++) {
        const roles: RoleName[] = ['end', 'end', 'end', 'end', 'parent', 'child'];
        await threads.start(roles);
        const report =
          round % 2 === 0
            ? await within(runShutdown(block, undefined, GRACE_MS, { forceNow: undefined }), 60_000, 'the shutdown')
            : runShutdownSync(block, undefined, GRACE_MS);
        assertAllEnded(report, 6, `round ${round}`);
        threads.clear();
      }
    } finally {
      await threads.close();
    }
  });
});
