/**
 * Where a syntax error is. Node reports a module that fails to parse as a SyntaxError whose stack
 * names only its own loader (a thread's `import()` of it shows no file or line at all). The
 * transform's parser has just failed on the same source with a position: the load hook notes it,
 * and the thread's bootstrap puts it on the error the way Node marks one it prints, the file and
 * line, the source line and a caret above the stack.
 */

/** A module the parser could not parse, where it stopped. */
export interface UnparsableModule {
  readonly url: string;
  /** 1-based. */
  readonly line: number;
  /** 0-based, as the caret is placed. */
  readonly column: number;
  readonly sourceLine: string;
}

/** The position of the parser's error `error` (acorn's, with `loc`) in `source`, if it has one. */
export function unparsableModule(error: unknown, url: string, source: string): UnparsableModule | undefined {
  const loc = (error as { loc?: { line?: unknown; column?: unknown } } | null)?.loc;
  if (typeof loc?.line !== 'number' || typeof loc.column !== 'number') return undefined;
  const sourceLine = source.split(/\r\n|[\n\r\u2028\u2029]/)[loc.line - 1] ?? '';
  return { url, line: loc.line, column: loc.column, sourceLine };
}

/**
 * Marks `error`, the thread's failure to load its target, with the last module that did not
 * parse, if it is Node's loader's SyntaxError for a module it could not compile: one that names
 * no place of its own. Not one that does (a CommonJS module's, or a missing export's, which Node
 * marks itself), nor one the module's code threw as it ran (`JSON.parse`, `eval`: its first frame
 * is that code, not Node's loader): the module noted may then be another, whose failure to load
 * the program caught.
 */
export function locateSyntaxError(error: unknown, unparsable: UnparsableModule | undefined): void {
  if (unparsable === undefined || !(error instanceof SyntaxError)) return;
  const stack = String(error.stack);
  if (stack.includes(unparsable.url) || !stack.startsWith('SyntaxError')) return;
  const firstFrame = /\n\s+at ([^\n]*)/.exec(stack)?.[1];
  if (firstFrame !== undefined && !/(?:^|\()node:/.test(firstFrame)) return;
  // Node's own mark, as it prints an uncaught syntax error of the main script; the line is
  // shortened around the caret, as tab stops and long minified lines would misplace it.
  const start = Math.max(0, unparsable.column - 60);
  const shown = unparsable.sourceLine.slice(start, unparsable.column + 60).replace(/\t/g, ' ');
  const caret = `${' '.repeat(unparsable.column - start)}^`;
  error.stack = `${unparsable.url}:${unparsable.line}\n${shown}\n${caret}\n\n${stack}`;
}
