/**
 * The shared memory behind a lock, event, semaphore, condition, barrier or queue, and how an
 * object sent to another thread comes back to life there as a working instance of its class.
 *
 * An object is its words (one `SharedArrayBuffer`) and the registry of the group it was made in,
 * whose park words its wait queues use. Sent to another thread (in a thread's `args`, or as a
 * queue item), it travels as a plain description ({@link SharedDescription}); the receiving
 * thread revives it with the reviver its class registered, once per object: the same object
 * sent twice is the same instance there.
 */
import { type ControlBlock, type ControlMemory, memoryId, nextObjectId, openControlBlock } from '../control-block.js';
import { ensureRegistry } from '../registry.js';
import { state } from '../thread-state.js';
import { WaitQueue, waitQueueWords } from './wait-queue.js';

/** The key that marks a shared object's description among plain data. */
export const SHARED_KEY = 'graceful-threads:shared:v1';

/** What a shared object travels as: plain data that structured clone carries. */
export interface SharedDescription {
  readonly [SHARED_KEY]: string;
  readonly id: number;
  readonly buffer: SharedArrayBuffer;
  readonly registry: ControlMemory;
  /** What its class needs besides its words (a barrier's party count, a queue's capacity...). */
  readonly config: readonly number[];
  /** The shared objects it uses (a condition's lock). */
  readonly links?: readonly SharedDescription[];
}

/** The method by which a shared object describes itself for another thread. */
export const DESCRIBE: unique symbol = Symbol.for('graceful-threads.describe-shared.v1') as never;

/** Implemented by every class whose instances can be sent to other threads. */
export interface SharedObject {
  [DESCRIBE](): SharedDescription;
}

/** A shared object's memory, as the calling thread sees it. */
export class SharedMemory {
  readonly kind: string;
  readonly id: number;
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly registry: ControlBlock;
  readonly config: readonly number[];

  private constructor(
    kind: string,
    id: number,
    buffer: SharedArrayBuffer,
    registry: ControlBlock,
    config: readonly number[],
  ) {
    this.kind = kind;
    this.id = id;
    this.buffer = buffer;
    this.words = new Int32Array(buffer);
    this.registry = registry;
    this.config = config;
    sharedObjectsSeen = true;
  }

  /**
   * Allocates the memory of a new object: `stateWords` words of its own, then `queues` wait
   * queues, then `extraBytes` (8-byte aligned) for its data.
   */
  static allocate(
    kind: string,
    stateWords: number,
    queues: number,
    config: readonly number[] = [],
    extraBytes = 0,
  ): SharedMemory {
    const registry = ensureRegistry();
    const words = alignTo8(stateWords + queues * waitQueueWords(registry.capacity));
    const buffer = new SharedArrayBuffer(words * 4 + extraBytes);
    return new SharedMemory(kind, nextObjectId(registry), buffer, registry, config);
  }

  /** The calling thread's view of memory described by `description`. */
  static open(description: SharedDescription): SharedMemory {
    const { [SHARED_KEY]: kind, id, buffer, registry, config } = description;
    return new SharedMemory(kind, id, buffer, registryFor(registry), config);
  }

  /** The `n`th wait queue (they follow the `stateWords` words). */
  queue(stateWords: number, n: number): WaitQueue {
    return new WaitQueue(this.words, stateWords + n * waitQueueWords(this.registry.capacity), this.registry);
  }

  /** Byte offset where the extra data begins. */
  extraOffset(stateWords: number, queues: number): number {
    return alignTo8(stateWords + queues * waitQueueWords(this.registry.capacity)) * 4;
  }

  describe(): SharedDescription {
    return {
      [SHARED_KEY]: this.kind,
      id: this.id,
      buffer: this.buffer,
      registry: this.registry.memory,
      config: this.config,
    };
  }
}

function alignTo8(words: number): number {
  return words + (words & 1);
}

/** True once this thread has made or revived a shared object: until then args need no walk. */
export let sharedObjectsSeen = false;

const foreign = new Map<number, ControlBlock>();

/** The calling thread's view of a registry: its own when it is the same memory. */
function registryFor(memory: ControlMemory): ControlBlock {
  const id = memoryId(memory);
  const own = state.registry ?? (state.managed ? state.block : undefined);
  if (own !== undefined && memoryId(own.memory) === id) return own;
  let block = foreign.get(id);
  if (block === undefined) {
    block = openControlBlock(memory);
    foreign.set(id, block);
  }
  return block;
}

type Reviver = (memory: SharedMemory, description: SharedDescription) => SharedObject;

// On a registered global symbol: a thread's bootstrap revives its args with the classes of the
// package copy its target imports, which registered themselves here when it loaded.
const REVIVERS_KEY = Symbol.for('graceful-threads.shared-revivers.v1');
const holder = globalThis as typeof globalThis & { [REVIVERS_KEY]?: Map<string, Reviver> };
const revivers: Map<string, Reviver> = holder[REVIVERS_KEY] ?? new Map();
holder[REVIVERS_KEY] ??= revivers;

// Keyed by the registry's id and the object's number in it.
const instances = new Map<string, WeakRef<SharedObject>>();
const forget = new FinalizationRegistry<string>((key) => {
  if (instances.get(key)?.deref() === undefined) instances.delete(key);
});

function keyOf(registry: ControlMemory, id: number): string {
  return `${memoryId(registry)}:${id}`;
}

/**
 * Registers how objects of `kind` come back to life in a thread. The first copy of the package to
 * load in a thread wins: a thread's target loads (and imports its copy) before its args are
 * revived, so they arrive as instances of the classes it imported.
 */
export function registerKind(kind: string, revive: Reviver): void {
  if (!revivers.has(kind)) revivers.set(kind, revive);
}

/** Records an object, so that it is itself when it comes back to this thread. */
function remember(object: SharedObject, memory: SharedMemory): void {
  const key = keyOf(memory.registry.memory, memory.id);
  instances.set(key, new WeakRef(object));
  forget.register(object, key);
}

/** The instance a description stands for in the calling thread (undefined: unknown kind). */
export function revive(description: SharedDescription): SharedObject | undefined {
  const known = instances.get(keyOf(description.registry, description.id))?.deref();
  if (known !== undefined) return known;
  const reviver = revivers.get(description[SHARED_KEY]);
  if (reviver === undefined) return undefined;
  const memory = SharedMemory.open(description);
  // Restored after: a reviver may revive the objects it links to before it constructs.
  const outer = reviving;
  reviving = memory;
  try {
    return reviver(memory, description);
  } finally {
    reviving = outer;
  }
}

let reviving: SharedMemory | undefined;

/**
 * The memory a constructor runs for: the revived object's, when {@link revive} calls it (its
 * reviver calls the public constructor), else a new allocation. Either way it is remembered.
 */
export function memoryFor(object: SharedObject, kind: string, allocate: () => SharedMemory): SharedMemory {
  const revived = reviving;
  reviving = undefined;
  const memory = revived?.kind === kind ? revived : allocate();
  remember(object, memory);
  return memory;
}

/** True when `value` is a shared object's description. */
export function isSharedDescription(value: unknown): value is SharedDescription {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<SharedDescription>)[SHARED_KEY] === 'string' &&
    (value as Partial<SharedDescription>).buffer instanceof SharedArrayBuffer
  );
}
