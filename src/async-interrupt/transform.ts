/**
 * The source transform behind `asyncInterrupt`: puts a cheap interruption check where long
 * running code must pass (every loop and every function that calls something), by inserting text
 * only, never a line break, so every line of the result is the same line of the user's source.
 *
 * Parsed with acorn, edited with magic-string (which also writes the source map for the columns).
 *
 * The check reads the thread's flag word through a global constant (see ./runtime.ts for why a
 * global): `__graceful_flag[0] & 1 && __graceful_trap()`, the trap deciding whether to throw
 * (critical sections, regions). Where it goes is what its cost depends on (bench/async-interrupt.js):
 *
 * - A load from shared memory inside a hot loop, even in a branch taken once in 1024 iterations,
 *   stops V8 from keeping the loop's other loads (an array's length and data pointer) in
 *   registers: +100% to +400% on a dot product. So loops are strip-mined: the original loop runs
 *   at most `CHUNK` iterations with nothing in it but a countdown, and an enclosing loop checks
 *   the flag between chunks ({@link stripMine}).
 * - A counted loop whose trip count is a small constant is left alone: its back-edges cannot
 *   delay the check long.
 * - A function that calls nothing and has no loop runs a bounded time: no entry check. One that
 *   calls gets one at entry, which is what reaches recursion.
 */
import type * as acornTypes from 'acorn';
import type MagicStringClass from 'magic-string';

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

/** The globals the inserted code reads (./runtime.ts defines them). */
export const FLAG_GLOBAL = '__graceful_flag';
export const TRAP_GLOBAL = '__graceful_trap';

/** Back-edges a strip-mined loop runs between two checks of the flag. */
export const CHUNK = 2048;
/** A counted loop with at most this many iterations (a constant) is not checked. */
export const SMALL_TRIP_COUNT = 1024;

const CHECK_EXPRESSION = `${FLAG_GLOBAL}[0]&1&&${TRAP_GLOBAL}()`;
const CHECK = `${CHECK_EXPRESSION};`;

type AnyNode = acornTypes.Node & Record<string, unknown>;
type FunctionNode = acornTypes.Function & AnyNode;
type LoopNode = (
  | acornTypes.ForStatement
  | acornTypes.WhileStatement
  | acornTypes.DoWhileStatement
  | acornTypes.ForInStatement
  | acornTypes.ForOfStatement
) &
  AnyNode;

const LOOPS = new Set(['ForStatement', 'WhileStatement', 'DoWhileStatement', 'ForInStatement', 'ForOfStatement']);
const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/**
 * Instruments `source` (an ES module when `module` is true, else a CommonJS module's body).
 * Throws acorn's SyntaxError for source that does not parse: the caller then hands the source on
 * unchanged, so that Node reports the error at the user's file and line.
 *
 * @param file the file's URL or path, for the source map.
 */
export function instrument(source: string, file: string, module: boolean, tools: TransformTools): Instrumented {
  const program = tools.parse(source, {
    ecmaVersion: 'latest',
    sourceType: module ? 'module' : 'script',
    allowHashBang: true,
    allowReturnOutsideFunction: !module,
    allowAwaitOutsideFunction: module,
    allowImportExportEverywhere: false,
  }) as unknown as AnyNode;
  const names = localNames(source);
  const edit = new tools.MagicString(source);
  const state: WalkState = { edit, names, checks: 0, depth: 0 };
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

interface WalkState {
  readonly edit: MagicStringClass;
  readonly names: LocalNames;
  checks: number;
  /** Nesting of strip-mined loops: each level declares its own countdown. */
  depth: number;
}

interface LocalNames {
  readonly prefix: string;
}

/** A prefix for the transform's own locals that the source does not use. */
function localNames(source: string): LocalNames {
  let prefix = '__gt';
  while (source.includes(prefix)) prefix += '_';
  return { prefix };
}

function children(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const key in node) {
    if (key === 'type' || key === 'start' || key === 'end' || key === 'loc' || key === 'range') continue;
    const value = node[key];
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) out.push(item);
    } else if (isNode(value)) {
      out.push(value);
    }
  }
  return out;
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

function visit(node: AnyNode, state: WalkState): void {
  if (FUNCTIONS.has(node.type)) {
    instrumentFunction(node as FunctionNode, state);
  } else if (LOOPS.has(node.type)) {
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

/** Whether running `node` can call a function (outside nested functions, which are their own). */
function callsSomething(node: AnyNode): boolean {
  if (node.type === 'CallExpression' || node.type === 'NewExpression' || node.type === 'TaggedTemplateExpression') {
    if (!isBoundedCall(node)) return true;
  }
  for (const child of children(node)) {
    if (FUNCTIONS.has(child.type) || child.type === 'ClassBody') continue;
    if (callsSomething(child)) return true;
  }
  return false;
}

/** A call that cannot run long or reach user code: `Math.abs(x)` and the like. */
function isBoundedCall(node: AnyNode): boolean {
  if (node.type !== 'CallExpression') return false;
  const callee = node.callee as AnyNode;
  return (
    callee.type === 'MemberExpression' &&
    (callee.object as AnyNode).type === 'Identifier' &&
    (callee.object as acornTypes.Identifier).name === 'Math' &&
    callee.computed === false &&
    (node.arguments as AnyNode[]).every((argument) => argument.type !== 'SpreadElement')
  );
}

function instrumentFunction(fn: FunctionNode, state: WalkState): void {
  const body = fn.body as AnyNode;
  // A leaf (no call, no loop of its own) runs a bounded time: its caller's checks cover it.
  if (callsSomething(body)) {
    if (body.type === 'BlockStatement') {
      state.edit.appendRight(afterDirectives(body), CHECK);
    } else {
      state.edit.appendRight(body.start, `(${CHECK_EXPRESSION},`);
      state.edit.prependLeft(body.end, ')');
    }
    state.checks++;
  }
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

/** `for (let i = 0; i < 16; i++)` with `i` not assigned in the body: at most 16 back-edges. */
function isSmallCountedLoop(loop: LoopNode): boolean {
  if (loop.type !== 'ForStatement') return false;
  const { init, test, update, body } = loop as acornTypes.ForStatement & AnyNode;
  if (init?.type !== 'VariableDeclaration' || init.declarations.length !== 1) return false;
  const declaration = init.declarations[0]!;
  if (declaration.id.type !== 'Identifier' || !isNumber(declaration.init)) return false;
  const name = declaration.id.name;
  if (test?.type !== 'BinaryExpression' || (test.operator !== '<' && test.operator !== '<=')) return false;
  if (test.left.type !== 'Identifier' || test.left.name !== name || !isNumber(test.right)) return false;
  const trips = (test.right.value as number) - (declaration.init.value as number) + (test.operator === '<=' ? 1 : 0);
  if (!(trips <= SMALL_TRIP_COUNT)) return false;
  const step =
    update?.type === 'UpdateExpression' && update.operator === '++' && isIdentifier(update.argument, name)
      ? 1
      : update?.type === 'AssignmentExpression' &&
          update.operator === '+=' &&
          isIdentifier(update.left, name) &&
          isNumber(update.right) &&
          (update.right.value as number) >= 1
        ? 1
        : 0;
  return step === 1 && !assigns(body as AnyNode, name);
}

function isNumber(node: acornTypes.Node | null | undefined): node is acornTypes.Literal {
  return node?.type === 'Literal' && typeof (node as acornTypes.Literal).value === 'number';
}

function isIdentifier(node: acornTypes.Node, name: string): boolean {
  return node.type === 'Identifier' && (node as acornTypes.Identifier).name === name;
}

/** Whether `node` may assign the variable `name` (any function inside may: it could be a closure). */
function assigns(node: AnyNode, name: string): boolean {
  if (FUNCTIONS.has(node.type) || node.type === 'ClassBody') return true;
  if (node.type === 'UpdateExpression' && isIdentifier(node.argument as AnyNode, name)) return true;
  if (node.type === 'AssignmentExpression' && mentions(node.left as AnyNode, name)) return true;
  if ((node.type === 'ForInStatement' || node.type === 'ForOfStatement') && mentions(node.left as AnyNode, name)) {
    return true;
  }
  for (const child of children(node)) if (assigns(child, name)) return true;
  return false;
}

function mentions(node: AnyNode, name: string): boolean {
  if (isIdentifier(node, name)) return true;
  for (const child of children(node)) if (mentions(child, name)) return true;
  return false;
}

/** Whether a closure inside `nodes` could capture a per-iteration binding. */
function hasClosure(nodes: readonly (AnyNode | null | undefined)[]): boolean {
  const find = (node: AnyNode): boolean =>
    FUNCTIONS.has(node.type) || node.type === 'ClassBody' || children(node).some(find);
  return nodes.some((node) => node != null && find(node));
}

function instrumentLoop(loop: LoopNode, state: WalkState, labels: readonly AnyNode[]): void {
  const body = loop.body as AnyNode;
  if (isSmallCountedLoop(loop)) {
    // Left as it is.
  } else if (!stripMine(loop, state, labels)) {
    checkAtBodyStart(body, state);
  }
  state.depth++;
  for (const child of children(loop)) visit(child, state);
  state.depth--;
}

/** The plain form: a check as each iteration starts (so `continue` passes it too). */
function checkAtBodyStart(body: AnyNode, state: WalkState): void {
  if (body.type === 'BlockStatement') {
    state.edit.appendRight(body.start + 1, CHECK);
  } else {
    state.edit.appendRight(body.start, `{${CHECK}`);
    state.edit.prependLeft(body.end, '}');
  }
  state.checks++;
}

/**
 * Strip-mines `loop`: it runs unchanged (same test, update, body, labels, so `break` and
 * `continue` mean what they meant), at most CHUNK iterations at a time, inside a loop that
 * checks the flag between chunks and re-enters it:
 *
 * ```js
 * for (INIT; TEST; UPDATE) BODY
 * // becomes
 * {INIT; let k, r; for (;;) { CHECK; k = CHUNK; r = 0;
 *   for (; k-- > 0 ? (TEST) : (r = 1, false); UPDATE) BODY
 *   if (r === 0) break; }}
 * ```
 *
 * TEST runs exactly once per iteration, as before. A `do ... while` tests first, then counts
 * (its body runs before any test). `for...in` and `for...of` keep the plain check (their
 * iterator cannot be split without changing when it closes), and so does a loop whose
 * `let` bindings a closure may capture (hoisting them would share one binding between
 * iterations). Returns false when it left the loop for the plain check.
 */
function stripMine(loop: LoopNode, state: WalkState, labels: readonly AnyNode[]): boolean {
  const { edit } = state;
  const k = `${state.names.prefix}k${state.depth}`;
  const r = `${state.names.prefix}r${state.depth}`;
  const head = `let ${k},${r};for(;;){${CHECK}${k}=${CHUNK};${r}=0;`;
  const tail = `if(${r}===0)break;}}`;
  const counting = `${k}-->0?`;
  const stop = `:(${r}=1,false)`;
  const labelText = labels.map((label) => `${(label.label as acornTypes.Identifier).name}:`).join('');
  const start = labels[0]?.start ?? loop.start;
  if (loop.type === 'ForStatement') {
    const { init, test } = loop as acornTypes.ForStatement & AnyNode;
    if (
      init?.type === 'VariableDeclaration' &&
      init.kind !== 'var' &&
      hasClosure([loop.test, loop.update, loop.body] as (AnyNode | null | undefined)[])
    ) {
      return false;
    }
    const semicolon = source(edit).indexOf(';', init?.end ?? loop.start + 3);
    // `L: for (` -> `{`, keeping INIT and its `;`
    edit.update(start, init === null || init === undefined ? semicolon : init.start, '{');
    if (init === null || init === undefined) edit.update(semicolon, semicolon + 1, '');
    edit.appendRight(semicolon + 1, `${head}${labelText}for(;`);
    if (test === null || test === undefined) {
      edit.appendRight(semicolon + 1, `${counting}true${stop}`);
    } else {
      edit.appendRight(test.start, `${counting}(`);
      edit.prependLeft(test.end, `)${stop}`);
    }
  } else if (loop.type === 'WhileStatement') {
    // `L: while (TEST)` -> `{let k, r; for (;;) {...; L: for (; k-- > 0 ? (TEST) : ...;)`
    // (the parentheses of the while itself: TEST's own, if any, lie inside them)
    const open = source(edit).indexOf('(', loop.start + 5);
    const close = source(edit).lastIndexOf(')', (loop.body as AnyNode).start - 1);
    edit.update(start, open + 1, `{${head}${labelText}for(;${counting}(`);
    edit.update(close, close + 1, `)${stop};)`);
  } else if (loop.type === 'DoWhileStatement') {
    const { test } = loop as acornTypes.DoWhileStatement;
    // `L: do BODY while (TEST)` -> `{...; L: do BODY while ((TEST) ? k-- > 0 || (r = 1, false) : false)`
    edit.update(start, loop.start + 2, `{${head}${labelText}do`);
    edit.appendRight(test.start, '(');
    edit.prependLeft(test.end, `)?${k}-->0||(${r}=1,false):false`);
  } else {
    return false;
  }
  edit.prependLeft(loop.end, tail);
  state.checks++;
  return true;
}

function source(edit: MagicStringClass): string {
  return edit.original;
}
