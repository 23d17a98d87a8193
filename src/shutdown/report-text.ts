/**
 * The text a shutdown writes to stderr about the threads it had to terminate: one block per
 * thread, as a JVM thread dump shows it, so that whoever reads the log sees what did not stop and
 * where it was.
 */
import type { ShutdownReport } from './shutdown.js';

/** The stderr text for a report; empty when nothing was terminated. */
export function reportText(report: ShutdownReport, cause: string, graceMs: number, forced: boolean): string {
  if (report.terminated.length === 0) return '';
  const why = forced
    ? `were still running when a second ${cause} forced the shutdown`
    : `did not end within ${graceMs} ms`;
  const lines = [
    `graceful-threads: shutdown on ${cause}: ${report.ended.length} thread(s) ended, ${report.terminated.length} ${why} and were terminated:`,
  ];
  for (const thread of report.terminated) {
    const facts = [
      `${Math.round(thread.ms)} ms after its interrupt`,
      thread.inCriticalSection ? 'inside a critical section' : 'not in a critical section',
      thread.checkedSinceInterrupt ? 'had seen its flag set' : 'had not checked its flag since the interrupt',
    ];
    lines.push(`"${thread.name}" (thread ${thread.threadId}): ${facts.join('; ')}`, thread.stack, '');
  }
  return `${lines.join('\n')}\n`;
}
