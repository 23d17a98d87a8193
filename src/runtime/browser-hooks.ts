/** The browser twin of ./node-hooks.ts: a browser has no module hooks to instrument a worker with. */

/** Why asynchronous interruption cannot be set up here: always, in a browser. */
export function asyncInterruptUnavailable(): string | undefined {
  return "The asyncInterrupt option instruments a thread's modules through Node.js's module hooks, which browsers do not have. Poll with checkInterrupt() or interruptionRequested() instead.";
}
