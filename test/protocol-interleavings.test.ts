/**
 * The shared-memory protocol under chosen interleavings of real threads, with participants killed
 * between any two atomic operations (see test/protocol-harness.ts). Each test runs hundreds of
 * random schedules from a printed seed; GT_SEED=<seed> replays one run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LIVE, slotWords } from '../src/control-block.ts';
import { type Role, random, Scheduler } from './protocol-harness.ts';

const seed = Number(process.env.GT_SEED ?? Date.now() % 1_000_000);
const SCHEDULES = 400;
/** Each test runs up to SCHEDULES schedules, at least MIN_SCHEDULES, and stops adding after BUDGET_MS. */
const MIN_SCHEDULES = 60;
const BUDGET_MS = 12_000;

function* schedules(): Generator<number> {
  const started = performance.now();
  for (let i = 0; i < SCHEDULES && (i < MIN_SCHEDULES || performance.now() - started < BUDGET_MS); i++) yield i;
}

describe(`protocol interleavings (seed ${seed})`, () => {
  let scheduler: Scheduler;
  before(() => {
    scheduler = new Scheduler(8);
  });
  after(() => scheduler.dispose());

  it('wakes a sleeper or a parked waiter whatever the interleaving, even when an interrupter dies between two steps', async () => {
    const rand = random(seed);
    let kills = 0;
    let withReason = 0;
    let ran = 0;
    for (const i of schedules()) {
      ran++;
      const [target, first, second] = scheduler.reset(3);
      // Half the schedules have one interrupter: nobody else can make up for a lost wake-up.
      const alone = rand() < 0.5;
      const victim = rand() < 0.6 ? (alone ? 1 : 1 + Math.floor(rand() * 2)) : -1;
      const killAt = Math.floor(rand() * 12);
      // Blocked on its flag word (as the interruption signal's watcher waits) or on its park word (sleep() and the waits).
      const roles = [
        { role: rand() < 0.5 ? 'sleeper' : 'parker', params: { target } },
        { role: 'interrupter', params: { target, caller: first!.slot, reason: 1 }, slot: first!.slot },
        {
          role: 'interrupter',
          params: { target, caller: second!.slot, reason: rand() < 0.5 ? 2 : 0 },
          slot: second!.slot,
        },
        { role: 'releaser', params: {} },
      ] as const;
      const result = await scheduler.run(
        roles.map((role, id) => (id === victim ? { ...role, killAt } : role)).filter((_, id) => !(alone && id === 2)),
        rand,
        [0, 0, 0, 0, 0, 0, 0, 0],
      );
      const context = `schedule ${i}, victim ${victim} at op ${killAt}`;
      assert.equal(result.lostWakeUp, false, `lost wake-up: ${context}`);
      assert.notEqual(result.outcomes[0], 2, `the parked waiter slept through an interrupt: ${context}`);
      const set = result.outcomes.slice(1, alone ? 2 : 3).some((outcome, j) => outcome === 1 && !result.killed[j + 1]);
      if (set) assert.ok(result.reasonCounts[0]! >= 1, `the sleeper never saw the interrupt: ${context}`);
      assert.ok([0, 1, 2].includes(result.reasonTags[0]!), `foreign reason: ${context}`);
      if (result.reasonTags[0]) withReason++;
      assert.equal(slotWords(scheduler.block, target!.slot).reasonClaim, 0, `reason claim leaked: ${context}`);
      if (result.killed.some(Boolean)) kills++;
    }
    assert.ok(kills > ran / 4, `only ${kills} of ${ran} schedules killed a participant`);
    assert.ok(withReason > ran / 4, `only ${withReason} of ${ran} schedules delivered a reason`);
  });

  it('never lets a stalled or dead interrupter of an ended thread write into the reason of the next', async () => {
    const rand = random(seed + 3);
    let delivered = 0;
    let ran = 0;
    for (const i of schedules()) {
      ran++;
      const [target, first, second] = scheduler.reset(3);
      const next = { slot: target!.slot, gen: target!.gen + 1 }; // the thread that reuses the slot
      const victim = rand() < 0.4 ? 1 + Math.floor(rand() * 2) : -1;
      const roles = [
        { role: 'reuser', params: { release: target } },
        { role: 'interrupter', params: { target, caller: first!.slot, reason: 1 }, slot: first!.slot },
        {
          role: 'interrupter',
          params: { target: next, caller: second!.slot, reason: 2, retry: true },
          slot: second!.slot,
        },
        { role: 'releaser', params: {} },
      ] as const;
      const killAt = Math.floor(rand() * 14);
      const result = await scheduler.run(
        roles.map((role, id) => (id === victim ? { ...role, killAt } : role)),
        rand,
        [0, 0, 0, 0, 0, 0, 0, 0],
      );
      const context = `schedule ${i}, victim ${victim} at op ${killAt}`;
      assert.equal(result.lostWakeUp, false, `lost wake-up: ${context}`);
      assert.ok(
        [0, 2].includes(result.reasonTags[0]!),
        `reason ${result.reasonTags[0]} of the ended thread: ${context}`,
      );
      if (result.reasonTags[0] === 2) delivered++;
    }
    assert.ok(delivered > ran / 10, `only ${delivered} of ${ran} schedules delivered the new thread's reason`);
  });

  it('never sets the flag of a free slot or of the thread that reuses it (interruptAllThreads vs churn)', async () => {
    const rand = random(seed + 1);
    for (const i of schedules()) {
      const [target, interrupter] = scheduler.reset(2);
      const roles = [
        { role: 'interruptAll', params: { caller: interrupter!.slot, reason: 3 } },
        { role: 'churner', params: { release: target, parent: undefined } },
        { role: 'interruptAll', params: { caller: undefined, reason: 4 } },
      ] as const;
      // The harness checks after every step that no free slot carries flag bits, and the churner
      // that its new slot is live; here: a new thread never inherits an interrupt.
      const result = await scheduler.run([...roles], rand, []);
      const reused = result.outcomes[1]! - 1;
      assert.ok(reused >= 0);
      const words = slotWords(scheduler.block, reused);
      // If the new thread's flag is set, one of the two interrupt-alls must have counted it.
      if ((words.flag & 1) !== 0) assert.ok(result.outcomes[0]! + result.outcomes[2]! >= 1, `schedule ${i}`);
    }
  });

  it('releases exactly a dead parent’s children, even one it died claiming, never a stranger’s slot', async () => {
    const rand = random(seed + 2);
    for (const i of schedules()) {
      // slot 0 is the parent (it is slot 0 on purpose: a never-used slot must not look like its child)
      const [parent] = scheduler.reset(1);
      const killAt = rand() < 0.7 ? Math.floor(rand() * 10) : undefined;
      const roles: Role[] = [
        { role: 'spawner', params: { caller: parent!.slot }, slot: parent!.slot, killAt },
        { role: 'churner', params: { parent: undefined } },
        { role: 'releaser', params: {} },
      ];
      const result = await scheduler.run(roles, rand, [0, 0, 0, 0, 0, 0, 0, 0]);
      const stranger = result.outcomes[1]! - 1;
      assert.ok(stranger >= 0, `schedule ${i}: the churner got no slot`);
      const mine = slotWords(scheduler.block, stranger);
      assert.ok((mine.flag & LIVE) !== 0 && mine.owner === -1, `schedule ${i}: a stranger's slot was freed`);
      for (let slot = 0; slot < scheduler.block.capacity; slot++) {
        if (slot === stranger) continue;
        const words = slotWords(scheduler.block, slot);
        assert.equal(words.owner, 0, `schedule ${i} (kill at ${killAt}): slot ${slot} leaked`);
      }
    }
  });
});
