/**
 * How a loop gets its check: strip-mined into chunks with the check between them (three forms,
 * {@link stripMine}), or, where that cannot be done, a check as each iteration starts. The
 * rewrites insert text only, never a line break.
 */
import type * as acornTypes from 'acorn';
import type MagicStringClass from 'magic-string';
import { CHECK } from './check.js';
import { countedLoop } from './counted-loops.js';
import { type AnyNode, children, hasClosure, hasLoop, isPure, type LoopNode } from './syntax-tree.js';

/** What the rewrites read of the walk (./transform.ts), and the edit and count they add to. */
export interface RewriteState {
  readonly edit: MagicStringClass;
  readonly names: LocalNames;
  /** Checks inserted so far. */
  checks: number;
  /** Nesting of strip-mined loops: each level declares its own countdown. */
  depth: number;
  /** The functions (and the program) around the node visited, innermost last. */
  readonly scopes: AnyNode[];
  /** The source's comments, [start, end) in order: a `(` or `;` in one is not the loop's. */
  readonly comments: readonly (readonly [number, number])[];
}

/** How the rewrites name their locals (`<prefix><depth>k`...). */
export interface LocalNames {
  readonly prefix: string;
}

/** A prefix for the transform's own locals that the source does not use. */
export function localNames(source: string): LocalNames {
  let prefix = '__gt';
  while (source.includes(prefix)) prefix += '_';
  return { prefix };
}

/** The plain form: a check as each iteration starts (so `continue` passes it too). */
export function checkAtBodyStart(body: AnyNode, state: RewriteState): void {
  atBodyStart(body, CHECK, state);
  state.checks++;
}

/**
 * Strip-mines `loop` (whose body runs no loop): it runs at most `chunk` iterations at a time, inside a loop that checks the
 * flag between chunks and re-enters it. Its test, update, body and labels stay as they were, so
 * `break` and `continue` mean what they meant, and the check's load from shared memory is out of
 * the hot loop. The check comes after a chunk, not before: a loop that ends within its first
 * chunk (most inner loops) pays no check at all, and whatever runs it again checks. Three
 * forms, cheapest first:
 *
 * ```js
 * // A counted loop whose bound cannot change while a chunk runs: the chunk's end replaces the bound.
 * for (INIT; I < N; I++) BODY
 * {INIT; let e, l; for (;;) {
 *   if (typeof I === 'number' && typeof N === 'number' && N - I > CHUNK) { e = I + CHUNK; l = false } else { e = N; l = true }
 *   for (; I < e; I++) BODY
 *   if (l || I < e) break; CHECK }}    // the last chunk, or a break in BODY
 *
 * // A test that can run again without effect: a countdown at the top of the body.
 * for (INIT; TEST; UPDATE) BODY
 * {INIT; let k; for (;;) { k = CHUNK;
 *   for (; TEST; UPDATE) { if (--k < 0) break; BODY }
 *   if (k >= 0) break; CHECK }}        // a break in BODY, or TEST false
 *
 * // Any other test: counted before it, so it runs exactly once per iteration.
 * {INIT; let k, r; for (;;) { k = CHUNK; r = 0;
 *   for (; k-- > 0 ? (TEST) : (r = 1, false); UPDATE) BODY
 *   if (r === 0) break; CHECK }}
 * ```
 *
 * A `do ... while` takes the countdown form whatever its test (its body runs before any test).
 * `for...in` and `for...of` keep the plain check (their iterator cannot be split without
 * changing when it closes), and so does a loop whose `let` bindings a closure may capture
 * (hoisting them would share one binding between iterations). Returns false when it left the
 * loop for the plain check.
 */
export function stripMine(loop: LoopNode, state: RewriteState, labels: readonly AnyNode[], chunk: number): boolean {
  if (loop.type === 'ForInStatement' || loop.type === 'ForOfStatement') return false;
  const { edit } = state;
  const text = edit.original;
  const prefix = `${state.names.prefix}${state.depth}`;
  const labelText = labels.map((label) => `${(label.label as unknown as acornTypes.Identifier).name}:`).join('');
  const start = labels[0]?.start ?? loop.start;
  const body = loop.body as AnyNode;
  let open: string;
  let close: string;
  // Each close is inserted before any `}` the body gets, which then lands in front of it.
  if (loop.type === 'ForStatement') {
    const { init } = loop as acornTypes.ForStatement & AnyNode;
    if (
      init?.type === 'VariableDeclaration' &&
      init.kind !== 'var' &&
      hasClosure([init, loop.test, loop.update, body] as AnyNode[])
    ) {
      return false;
    }
    const counted = countedLoop(loop, state.scopes.at(-1));
    const semicolon = indexOutsideComments(state, ';', init?.end ?? loop.start + 3);
    // `L: for (INIT;` -> `{INIT;` then the chunk loop, then `L: for (;`
    edit.update(start, init === null || init === undefined ? semicolon : init.start, '{');
    if (init === null || init === undefined) edit.update(semicolon, semicolon + 1, '');
    const test = loop.test as AnyNode | null | undefined;
    if (counted !== undefined) {
      const { index, bound, increasing, step } = counted;
      const e = `${prefix}e`;
      const l = `${prefix}l`;
      const boundText = text.slice(bound.start, bound.end);
      const span = typeof step === 'number' ? String(chunk * step) : `${chunk}*${step}`;
      const far = increasing ? `${boundText}-${index}>${span}` : `${index}-${boundText}>${span}`;
      const chunkEnd = increasing ? `${index}+${span}` : `${index}-${span}`;
      const operator = (test as unknown as acornTypes.BinaryExpression).operator;
      const types = `typeof ${index}==='number'&&typeof ${boundText}==='number'`;
      const limits = `if(${far}){${e}=${chunkEnd};${l}=false}else{${e}=${boundText};${l}=true}`;
      if (typeof step === 'number') {
        open = `let ${e},${l};for(;;){if(${types}&&${far}){${e}=${chunkEnd};${l}=false}else{${e}=${boundText};${l}=true}${labelText}for(;`;
        close = `if(${l}||${index}${operator}${e})break;${CHECK}}}`;
      } else {
        // A step that is not a positive number: the loop as it was, with a countdown, on a copy
        // of the body (small, loop-free: countedLoop checked).
        const k = `${prefix}k`;
        const update = loop.update as AnyNode;
        const copy = `${labelText}for(;${index}${operator}${boundText};${text.slice(update.start, update.end)}){if(--${k}<0)break;${text.slice(body.start, body.end)}}if(${k}>=0)break;`;
        open = `let ${e},${l},${k};for(;;){if(${types}&&typeof ${step}==='number'&&${step}>0){${limits}${labelText}for(;`;
        close = `if(${l}||${index}${operator}${e})break;}else{${k}=${chunk};${copy}}${CHECK}}}`;
      }
      edit.appendRight(semicolon + 1, open);
      edit.update(bound.start, bound.end, e);
      edit.prependLeft(loop.end, close);
    } else if (test == null || isPure(test)) {
      const k = `${prefix}k`;
      const unroll = unrollable(body, text);
      edit.appendRight(semicolon + 1, `let ${k};for(;;){${k}=${unroll ? chunk / 2 : chunk};${labelText}for(;`);
      close = `if(${k}>=0)break;${CHECK}}}`;
      edit.prependLeft(loop.end, close);
      const update = loop.update as AnyNode | null | undefined;
      if (unroll) {
        countdownUnrolled(
          body,
          k,
          test == null ? 'true' : text.slice(test.start, test.end),
          update == null ? '' : text.slice(update.start, update.end),
          state,
        );
      } else {
        countdownAtBodyStart(body, k, state);
      }
    } else {
      const k = `${prefix}k`;
      const r = `${prefix}r`;
      edit.appendRight(semicolon + 1, `let ${k},${r};for(;;){${k}=${chunk};${r}=0;${labelText}for(;`);
      edit.appendRight(test.start, `${k}-->0?(`);
      edit.prependLeft(test.end, `):(${r}=1,false)`);
      close = `if(${r}===0)break;${CHECK}}}`;
      edit.prependLeft(loop.end, close);
    }
  } else if (loop.type === 'WhileStatement') {
    const test = loop.test as AnyNode;
    // The parentheses of the while itself: TEST's own, if any, lie inside them.
    const openParen = indexOutsideComments(state, '(', loop.start + 5);
    const closeParen = lastIndexOutsideComments(state, ')', body.start - 1);
    if (isPure(test)) {
      const k = `${prefix}k`;
      const unroll = unrollable(body, text);
      // `L: while (TEST)` -> `{let k; for (;;) {...; L: for (; TEST;)`
      edit.update(start, openParen + 1, `{let ${k};for(;;){${k}=${unroll ? chunk / 2 : chunk};${labelText}for(;`);
      edit.update(closeParen, closeParen + 1, ';)');
      close = `if(${k}>=0)break;${CHECK}}}`;
      edit.prependLeft(loop.end, close);
      if (unroll) countdownUnrolled(body, k, text.slice(test.start, test.end), '', state);
      else countdownAtBodyStart(body, k, state);
    } else {
      const k = `${prefix}k`;
      const r = `${prefix}r`;
      edit.update(start, openParen + 1, `{let ${k},${r};for(;;){${k}=${chunk};${r}=0;${labelText}for(;${k}-->0?(`);
      edit.update(closeParen, closeParen + 1, `):(${r}=1,false);)`);
      close = `if(${r}===0)break;${CHECK}}}`;
      edit.prependLeft(loop.end, close);
    }
  } else {
    const k = `${prefix}k`;
    // `L: do BODY while (TEST)` -> `{let k; for (;;) {...; L: do {if (--k < 0) break; BODY} while (TEST)`
    edit.update(start, loop.start + 2, `{let ${k};for(;;){${k}=${chunk};${labelText}do `);
    close = `if(${k}>=0)break;${CHECK}}}`;
    edit.prependLeft(loop.end, close);
    countdownAtBodyStart(body, k, state);
  }
  state.checks++;
  return true;
}

/**
 * Whether a loop's body is small enough to run twice per countdown step: at most UNROLL_LIMIT
 * characters, no loop or function, and either on one line or safe to put on one (lines must stay
 * where they were): no comment, template literal or line continuation, and every statement ends
 * with its own `;` (no automatic semicolon to lose). Halves the countdown's cost on the tight
 * data-dependent loops where it shows most (a Collatz kernel, Node 26: +25 % to +13 %).
 */
function unrollable(body: AnyNode, text: string): boolean {
  if (body.end - body.start > UNROLL_LIMIT || hasLoop(body)) return false;
  const code = text.slice(body.start, body.end);
  if (!/[\n\r\u2028\u2029]/.test(code)) return true;
  return !/\/\/|\/\*|`|\\[\n\r\u2028\u2029]/.test(code) && endsWithSemicolons(body, text);
}

const UNROLL_LIMIT = 200;
const SIMPLE_STATEMENTS = new Set([
  'ExpressionStatement',
  'VariableDeclaration',
  'ReturnStatement',
  'ThrowStatement',
  'BreakStatement',
  'ContinueStatement',
  'DebuggerStatement',
  // A class field ends with a `;` or a line break too: `class { x = 1 <new line> y = 2 }`.
  'PropertyDefinition',
]);

/** Whether every statement in `node` that a semicolon ends ends with one written out. */
function endsWithSemicolons(node: AnyNode, text: string): boolean {
  if (SIMPLE_STATEMENTS.has(node.type) && text[node.end - 1] !== ';') return false;
  return children(node).every((child) => endsWithSemicolons(child, text));
}

/**
 * `{if (--k < 0) break; BODY; UPDATE; if (!(TEST)) break; BODY}`: two iterations per countdown
 * step. `continue` in either copy goes to UPDATE and TEST as before. The copy is plain text on
 * the loop's last line (no source map: an error thrown in it maps to where the copy starts).
 */
function countdownUnrolled(body: AnyNode, k: string, test: string, update: string, state: RewriteState): void {
  const copy = state.edit.original.slice(body.start, body.end).replace(/\r\n?|[\n\u2028\u2029]/g, ' ');
  state.edit.appendRight(body.start, `{if(--${k}<0)break;`);
  state.edit.prependLeft(body.end, `;${update === '' ? '' : `${update};`}if(!(${test}))break;${copy};}`);
}

/** Puts `if (--k < 0) break;` first in the body. */
function countdownAtBodyStart(body: AnyNode, k: string, state: RewriteState): void {
  atBodyStart(body, `if(--${k}<0)break;`, state);
}

/** Puts `code` first in a loop's body, in a block made for it if need be. */
function atBodyStart(body: AnyNode, code: string, state: RewriteState): void {
  if (body.type === 'BlockStatement') {
    state.edit.appendRight(body.start + 1, code);
  } else {
    state.edit.appendRight(body.start, `{${code}`);
    state.edit.prependLeft(body.end, '}');
  }
}

/** The first `char` at or after `from` outside comments (the loop's own `(` or `;`). */
function indexOutsideComments(state: RewriteState, char: string, from: number): number {
  const source = state.edit.original;
  let at = source.indexOf(char, from);
  for (let comment = inComment(state, at); comment !== undefined; comment = inComment(state, at)) {
    at = source.indexOf(char, comment[1]);
  }
  return at;
}

/** The last `char` before `before` outside comments. */
function lastIndexOutsideComments(state: RewriteState, char: string, before: number): number {
  const source = state.edit.original;
  let at = source.lastIndexOf(char, before);
  for (let comment = inComment(state, at); comment !== undefined; comment = inComment(state, at)) {
    at = source.lastIndexOf(char, comment[0] - 1);
  }
  return at;
}

/** The comment holding position `at`, if any (a binary search: comments come in order). */
function inComment(state: RewriteState, at: number): readonly [number, number] | undefined {
  const { comments } = state;
  let low = 0;
  let high = comments.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const comment = comments[middle]!;
    if (at < comment[0]) high = middle - 1;
    else if (at >= comment[1]) low = middle + 1;
    else return comment;
  }
  return undefined;
}
