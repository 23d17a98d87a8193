/**
 * The source transform behind `asyncInterrupt`: puts a cheap interruption check where long
 * running code must pass (every loop and every function that calls something), by inserting text
 * only, never a line break, so every line of the result is the same line of the user's source.
 * This module walks the tree and decides where each check goes; ./loop-rewrite.ts rewrites the
 * loops, ./counted-loops.ts and ./syntax-tree.ts answer what the code may do.
 *
 * Parsed with acorn, edited with magic-string (which also writes the source map for the columns).
 *
 * The check (./check.ts) reads the thread's flag word through a global constant (see
 * ./install.ts for why a global): `__graceful_flag[0] & 1 && __graceful_trap()`, the trap
 * deciding whether to throw (critical sections, regions). Where it goes is what its cost depends
 * on (bench/async-interrupt.js):
 *
 * - A load from shared memory inside a hot loop, even in a branch taken once in 1024 iterations,
 *   stops V8 from keeping the loop's other loads (an array's length and data pointer) in
 *   registers: +100% to +400% on a dot product. So loops are strip-mined: the original loop runs
 *   at most `CHUNK` iterations with nothing in it but a countdown, and an enclosing loop checks
 *   the flag between chunks (`stripMine` in ./loop-rewrite.ts).
 * - A counted loop whose trip count is a small constant is left alone: its back-edges cannot
 *   delay the check long.
 * - A function that calls nothing and has no loop runs a bounded time: no entry check. One that
 *   calls gets one at entry, which is what reaches recursion.
 */
import type * as acornTypes from 'acorn';
import type MagicStringClass from 'magic-string';
import { CHECK, CHECK_EXPRESSION, CHUNK, CHUNK_WITH_CALLS } from './check.js';
import { isSmallCountedLoop, numericConstants } from './counted-loops.js';
import { checkAtBodyStart, localNames, type RewriteState, stripMine } from './loop-rewrite.js';
import {
  type AnyNode,
  callsSomething,
  children,
  FUNCTIONS,
  type FunctionNode,
  hasLoop,
  isNode,
  LOOPS,
  type LoopNode,
} from './syntax-tree.js';

/** What the transform needs of its two dependencies, loaded by the caller. */
export interface TransformTools {
  readonly parse: typeof acornTypes.parse;
  readonly MagicString: typeof MagicStringClass;
}

/** The result of {@link instrument}. */
export interface Instrumented {
  readonly code: string;
  /** How many checks were inserted (0: the source is returned unchanged). */
  readonly checks: number;
}

/**
 * Instruments `source` (an ES module when `module` is true, else a CommonJS module's body).
 * Throws acorn's SyntaxError for source that does not parse: the caller then hands the source on
 * unchanged, so that Node reports the error at the user's file and line.
 *
 * @param file the file's URL or path, for the source map.
 */
export function instrument(source: string, file: string, module: boolean, tools: TransformTools): Instrumented {
  const comments: [number, number][] = [];
  const program = tools.parse(source, {
    onComment: (_block, _text, start, end) => {
      comments.push([start, end]);
    },
    ecmaVersion: 'latest',
    sourceType: module ? 'module' : 'script',
    allowHashBang: true,
    allowReturnOutsideFunction: !module,
    allowAwaitOutsideFunction: module,
    allowImportExportEverywhere: false,
  }) as unknown as AnyNode;
  const names = localNames(source);
  const edit = new tools.MagicString(source);
  const state: WalkState = {
    edit,
    names,
    checks: 0,
    depth: 0,
    scopes: [program],
    constants: numericConstants(program),
    comments,
  };
  visit(program, state);
  if (state.checks === 0) return { code: source, checks: 0 };
  let code = edit.toString();
  // A source that maps itself (tsx's output) keeps its own map: lines are unchanged, and only the
  // columns after an inserted check on the same line shift.
  if (!/^\s*\/\/[#@]\s*sourceMappingURL=/m.test(source)) {
    const map = edit.generateMap({ source: file, file, hires: true, includeContent: false });
    code += `\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(map.toString()).toString('base64')}\n`;
  }
  return { code, checks: state.checks };
}

/** The walk's state: the rewrites' (./loop-rewrite.ts), and what only the walk reads. */
interface WalkState extends RewriteState {
  /** Names bound once in the whole module, by `const NAME = <number>`: their values. */
  readonly constants: ReadonlyMap<string, number>;
}

/** Walks `node`'s subtree, checking its functions and loops; the scopes and loop depth follow. */
function visit(node: AnyNode, state: WalkState): void {
  if (FUNCTIONS.has(node.type)) {
    instrumentFunction(node as FunctionNode, state);
    state.scopes.push(node);
    for (const child of children(node)) visit(child, state);
    state.scopes.pop();
    return;
  }
  if (LOOPS.has(node.type)) {
    instrumentLoop(node as LoopNode, state, []);
    return;
  } else if (node.type === 'LabeledStatement') {
    // The labels of a loop move with it onto the loop that runs its iterations.
    const labels: AnyNode[] = [];
    let inner: AnyNode = node;
    while (inner.type === 'LabeledStatement') {
      labels.push(inner);
      inner = inner.body as AnyNode;
    }
    if (LOOPS.has(inner.type)) {
      instrumentLoop(inner as LoopNode, state, labels);
      return;
    }
  }
  for (const child of children(node)) visit(child, state);
}

/** A check at the entry of `fn` if it calls something. */
function instrumentFunction(fn: FunctionNode, state: WalkState): void {
  const body = fn.body as AnyNode;
  // A leaf (no call, no loop of its own) runs a bounded time: its caller's checks cover it.
  if (callsSomething(body)) {
    if (body.type === 'BlockStatement') {
      const position = afterDirectives(body);
      // A directive without its `;` ('use strict' then a new line) would run into the check.
      state.edit.appendRight(
        position,
        position > body.start + 1 && text(state)[position - 1] !== ';' ? `;${CHECK}` : CHECK,
      );
    } else {
      state.edit.appendRight(body.start, `(${CHECK_EXPRESSION},`);
      state.edit.prependLeft(body.end, ')');
    }
    state.checks++;
  }
}

function text(state: WalkState): string {
  return state.edit.original;
}

/** Where a check can go at the top of a block: after its directives ('use strict'). */
function afterDirectives(block: AnyNode): number {
  let position = block.start + 1;
  for (const statement of block.body as AnyNode[]) {
    if (statement.type !== 'ExpressionStatement' || typeof statement.directive !== 'string') break;
    position = statement.end;
  }
  return position;
}

/**
 * Checks `loop` as its trip count and body call for (not at all, every iteration, or between
 * chunks of iterations), then walks into it one level deeper.
 */
function instrumentLoop(loop: LoopNode, state: WalkState, labels: readonly AnyNode[]): void {
  const body = loop.body as AnyNode;
  if (isSmallCountedLoop(loop, state.constants)) {
    // Left as it is.
  } else if (hasLoop(body)) {
    // An iteration that runs a loop may take long (and the checks of that loop run anyway):
    // checked every iteration, a load amortized over the inner loop's work.
    checkAtBodyStart(body, state);
  } else if (
    !stripMine(
      loop,
      state,
      labels,
      [body, loop.test, (loop as AnyNode).update].some((node) => isNode(node) && callsSomething(node))
        ? CHUNK_WITH_CALLS
        : CHUNK,
    )
  ) {
    checkAtBodyStart(body, state);
  }
  state.depth++;
  for (const child of children(loop)) visit(child, state);
  state.depth--;
}
