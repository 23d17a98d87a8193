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
/**
 * Iterations between two checks when the loop calls something: a call to a function of the
 * thread's own checks itself if it can run long, but a native one (`JSON.parse`) may not.
 */
export const CHUNK_WITH_CALLS = 64;
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

interface WalkState {
  readonly edit: MagicStringClass;
  readonly names: LocalNames;
  checks: number;
  /** Nesting of strip-mined loops: each level declares its own countdown. */
  depth: number;
  /** The functions (and the program) around the node visited, innermost last. */
  readonly scopes: AnyNode[];
  /** Names bound once in the whole module, by `const NAME = <number>`: their values. */
  readonly constants: ReadonlyMap<string, number>;
  /** The source's comments, [start, end) in order: a `(` or `;` in one is not the loop's. */
  readonly comments: readonly (readonly [number, number])[];
}

/** The first `char` at or after `from` outside comments (the loop's own `(` or `;`). */
function indexOutsideComments(state: WalkState, char: string, from: number): number {
  const source = state.edit.original;
  let at = source.indexOf(char, from);
  for (let comment = inComment(state, at); comment !== undefined; comment = inComment(state, at)) {
    at = source.indexOf(char, comment[1]);
  }
  return at;
}

/** The last `char` before `before` outside comments. */
function lastIndexOutsideComments(state: WalkState, char: string, before: number): number {
  const source = state.edit.original;
  let at = source.lastIndexOf(char, before);
  for (let comment = inComment(state, at); comment !== undefined; comment = inComment(state, at)) {
    at = source.lastIndexOf(char, comment[0] - 1);
  }
  return at;
}

/** The comment holding position `at`, if any (a binary search: comments come in order). */
function inComment(state: WalkState, at: number): readonly [number, number] | undefined {
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

/** `for (let i = 0; i < 16; i++)` with `i` not assigned in the body: at most 16 back-edges. */
function isSmallCountedLoop(loop: LoopNode, constants: ReadonlyMap<string, number>): boolean {
  if (loop.type !== 'ForStatement') return false;
  const { init, test, update, body } = loop as acornTypes.ForStatement & AnyNode;
  if (init?.type !== 'VariableDeclaration' || init.declarations.length !== 1) return false;
  const declaration = init.declarations[0]!;
  if (declaration.id.type !== 'Identifier' || !isNumber(declaration.init)) return false;
  const name = declaration.id.name;
  if (test?.type !== 'BinaryExpression' || (test.operator !== '<' && test.operator !== '<=')) return false;
  if (test.left.type !== 'Identifier' || test.left.name !== name) return false;
  // `i < 16`, or `i < N` with `const N = 16` the only N in the module
  const bound = isNumber(test.right)
    ? (test.right.value as number)
    : test.right.type === 'Identifier'
      ? constants.get(test.right.name)
      : undefined;
  if (bound === undefined) return false;
  const trips = bound - (declaration.init.value as number) + (test.operator === '<=' ? 1 : 0);
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
  // Innermost only: nested small loops multiply (96 x 96 x 96 back-edges is no small loop).
  return step === 1 && !assigns(body as AnyNode, name) && !hasLoop(body as AnyNode);
}

/** The names bound exactly once in the module, by a `const` with a number literal. */
function numericConstants(program: AnyNode): Map<string, number> {
  const bindings = new Map<string, number>();
  const constants = new Map<string, number>();
  const bind = (pattern: AnyNode | null | undefined): void => {
    if (pattern == null) return;
    if (pattern.type === 'Identifier') {
      const name = (pattern as unknown as acornTypes.Identifier).name;
      bindings.set(name, (bindings.get(name) ?? 0) + 1);
    } else if (pattern.type === 'MemberExpression') {
      return;
    } else if (pattern.type === 'AssignmentPattern') {
      bind(pattern.left as AnyNode);
    } else if (pattern.type === 'Property') {
      bind(pattern.value as AnyNode);
    } else {
      for (const child of children(pattern)) bind(child);
    }
  };
  const walk = (node: AnyNode): void => {
    switch (node.type) {
      case 'VariableDeclarator': {
        bind(node.id as AnyNode);
        const init = node.init as AnyNode | null;
        if (init !== null && isNumber(init) && (node.id as AnyNode).type === 'Identifier') {
          constants.set((node.id as unknown as acornTypes.Identifier).name, init.value as number);
        }
        break;
      }
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
      case 'ClassDeclaration':
      case 'ClassExpression':
        bind(node.id as AnyNode | null);
        for (const param of (node.params as AnyNode[] | undefined) ?? []) bind(param);
        break;
      case 'CatchClause':
        bind(node.param as AnyNode | null);
        break;
      case 'ImportSpecifier':
      case 'ImportDefaultSpecifier':
      case 'ImportNamespaceSpecifier':
        bind(node.local as AnyNode);
        break;
    }
    for (const child of children(node)) walk(child);
  };
  const declaredConst = new Set<string>();
  const collectConst = (node: AnyNode): void => {
    if (node.type === 'VariableDeclaration' && node.kind === 'const') {
      for (const declarator of node.declarations as AnyNode[]) {
        if ((declarator.id as AnyNode).type === 'Identifier') {
          declaredConst.add((declarator.id as unknown as acornTypes.Identifier).name);
        }
      }
    }
    for (const child of children(node)) collectConst(child);
  };
  walk(program);
  collectConst(program);
  for (const name of [...constants.keys()]) {
    if (bindings.get(name) !== 1 || !declaredConst.has(name)) constants.delete(name);
  }
  return constants;
}

function isNumber(node: acornTypes.Node | null | undefined): node is acornTypes.Literal {
  return node?.type === 'Literal' && typeof (node as acornTypes.Literal).value === 'number';
}

function isIdentifier(node: acornTypes.Node, name: string): boolean {
  return node.type === 'Identifier' && (node as acornTypes.Identifier).name === name;
}

/** Whether `node` itself (not its children) assigns the variable `name`. */
function assignsItself(node: AnyNode, name: string): boolean {
  if (node.type === 'UpdateExpression') return isIdentifier(node.argument as AnyNode, name);
  if (node.type === 'AssignmentExpression') return mentionsAsTarget(node.left as AnyNode, name);
  if (node.type === 'ForInStatement' || node.type === 'ForOfStatement') {
    return mentionsAsTarget(node.left as AnyNode, name);
  }
  return false;
}

/** Whether `node` may assign the variable `name` (any function inside may: it could be a closure). */
function assigns(node: AnyNode, name: string): boolean {
  if (FUNCTIONS.has(node.type) || node.type === 'ClassBody') return true;
  if (assignsItself(node, name)) return true;
  for (const child of children(node)) if (assigns(child, name)) return true;
  return false;
}

function mentions(node: AnyNode, name: string): boolean {
  if (isIdentifier(node, name)) return true;
  for (const child of children(node)) if (mentions(child, name)) return true;
  return false;
}

/** Whether a closure inside `nodes` (or one a direct eval makes) could capture a per-iteration binding. */
function hasClosure(nodes: readonly (AnyNode | null | undefined)[]): boolean {
  const find = (node: AnyNode): boolean =>
    FUNCTIONS.has(node.type) ||
    node.type === 'ClassBody' ||
    (node.type === 'CallExpression' && isIdentifier(node.callee as AnyNode, 'eval')) ||
    children(node).some(find);
  return nodes.some((node) => node != null && find(node));
}

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
function stripMine(loop: LoopNode, state: WalkState, labels: readonly AnyNode[], chunk: number): boolean {
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
    const counted = countedLoop(loop, state);
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
function countdownUnrolled(body: AnyNode, k: string, test: string, update: string, state: WalkState): void {
  const copy = state.edit.original.slice(body.start, body.end).replace(/\r\n?|[\n\u2028\u2029]/g, ' ');
  state.edit.appendRight(body.start, `{if(--${k}<0)break;`);
  state.edit.prependLeft(body.end, `;${update === '' ? '' : `${update};`}if(!(${test}))break;${copy};}`);
}

/** Puts `if (--k < 0) break;` first in the body (in a block made for it if need be). */
function countdownAtBodyStart(body: AnyNode, k: string, state: WalkState): void {
  const countdown = `if(--${k}<0)break;`;
  if (body.type === 'BlockStatement') {
    state.edit.appendRight(body.start + 1, countdown);
  } else {
    state.edit.appendRight(body.start, `{${countdown}`);
    state.edit.prependLeft(body.end, '}');
  }
}

/**
 * Whether evaluating `test` once more changes nothing: identifiers, literals, `this`, property
 * reads and operators, no call, assignment, `delete`, `yield` or `await`. (A getter or a Proxy
 * on the way is run again, once per chunk: code that counts its own property reads is not
 * what loops are made of.)
 */
function isPure(test: AnyNode): boolean {
  switch (test.type) {
    case 'Identifier':
    case 'Literal':
    case 'ThisExpression':
      return true;
    case 'MemberExpression':
      return isPure(test.object as AnyNode) && (!test.computed || isPure(test.property as AnyNode));
    case 'UnaryExpression':
      return test.operator !== 'delete' && isPure(test.argument as AnyNode);
    case 'BinaryExpression':
    case 'LogicalExpression':
      return (
        (test.left as AnyNode).type !== 'PrivateIdentifier' &&
        isPure(test.left as AnyNode) &&
        isPure(test.right as AnyNode)
      );
    case 'ConditionalExpression':
      return isPure(test.test as AnyNode) && isPure(test.consequent as AnyNode) && isPure(test.alternate as AnyNode);
    default:
      return false;
  }
}

interface CountedLoop {
  readonly index: string;
  readonly bound: AnyNode;
  readonly increasing: boolean;
  /** A positive number, or the name of the variable holding the step. */
  readonly step: number | string;
}

/**
 * `for (...; I < N; I++)` (or `<=`, `>`, `>=`, `--`, `+= 2`...) where neither `I` nor `N` can
 * change but through the update while the body runs: the body assigns neither and calls nothing
 * that could (no call at all, or `N` is a local nobody assigns).
 */
function countedLoop(loop: LoopNode, state: WalkState): CountedLoop | undefined {
  const { test, update, body } = loop as acornTypes.ForStatement & AnyNode;
  if (test?.type !== 'BinaryExpression' || test.left.type !== 'Identifier') return undefined;
  const index = test.left.name;
  const increasing = test.operator === '<' || test.operator === '<=';
  if (!increasing && test.operator !== '>' && test.operator !== '>=') return undefined;
  const step = stepOf(update as AnyNode | null | undefined, index);
  if (step === undefined || step.increasing !== increasing) return undefined;
  const bound = test.right as AnyNode;
  const root = boundRoot(bound);
  if (root === undefined || root === index) return undefined;
  const inside = [body as AnyNode, update as AnyNode];
  if (assigns(body as AnyNode, index) || inside.some((node) => assigns(node, root))) return undefined;
  if (typeof step.size === 'string') {
    // The step must not change while a chunk runs either; and the chunk's fallback (a step
    // that is not a positive number) runs a copy of the body: only small, simple ones.
    const name = step.size;
    if (assigns(body as AnyNode, name) || hasLoop(body as AnyNode) || body.end - body.start > 400) return undefined;
    if (inside.some((node) => suspends(node))) return undefined;
    if (inside.some((node) => callsSomething(node)) && !isUnassignedLocal(name, state.scopes.at(-1))) return undefined;
  }
  if (bound.type === 'MemberExpression') {
    // `a.length` changes under `a.push(x)` or `b[n] = x` with b === a: no call, no store to any property.
    if (inside.some((node) => callsSomething(node) || storesProperty(node) || suspends(node))) return undefined;
  } else if (bound.type === 'Identifier') {
    if (inside.some((node) => suspends(node))) return undefined;
    if (inside.some((node) => callsSomething(node)) && !isUnassignedLocal(root, state.scopes.at(-1))) return undefined;
  }
  return { index, bound, increasing, step: step.size };
}

function stepOf(
  update: AnyNode | null | undefined,
  index: string,
): { readonly increasing: boolean; readonly size: number | string } | undefined {
  if (update == null) return undefined;
  if (update.type === 'UpdateExpression' && isIdentifier(update.argument as AnyNode, index)) {
    return { increasing: update.operator === '++', size: 1 };
  }
  if (
    update.type === 'AssignmentExpression' &&
    (update.operator === '+=' || update.operator === '-=') &&
    isIdentifier(update.left as AnyNode, index) &&
    (update.right as AnyNode).type === 'Identifier' &&
    !isIdentifier(update.right as AnyNode, index)
  ) {
    // `j += i`: a variable step, checked positive as each chunk starts (./stripMine)
    return { increasing: update.operator === '+=', size: (update.right as unknown as acornTypes.Identifier).name };
  }
  if (
    update.type === 'AssignmentExpression' &&
    (update.operator === '+=' || update.operator === '-=') &&
    isIdentifier(update.left as AnyNode, index) &&
    isNumber(update.right as AnyNode) &&
    Number.isFinite((update.right as acornTypes.Literal).value) &&
    ((update.right as acornTypes.Literal).value as number) > 0
  ) {
    return { increasing: update.operator === '+=', size: (update.right as acornTypes.Literal).value as number };
  }
  return undefined;
}

/** The variable a loop bound reads: `n`, `a` of `a.length`, `a` of `a.b.c`; '' for a number. */
function hasLoop(node: AnyNode): boolean {
  return LOOPS.has(node.type) || FUNCTIONS.has(node.type) || children(node).some(hasLoop);
}

function boundRoot(bound: AnyNode): string | undefined {
  if (isNumber(bound)) return '';
  if (bound.type === 'Identifier') return (bound as unknown as acornTypes.Identifier).name;
  if (bound.type === 'MemberExpression' && !bound.computed && (bound.property as AnyNode).type === 'Identifier') {
    return boundRoot(bound.object as AnyNode);
  }
  return undefined;
}

function storesProperty(node: AnyNode): boolean {
  if (node.type === 'AssignmentExpression' && (node.left as AnyNode).type !== 'Identifier') return true;
  if (node.type === 'UpdateExpression' && (node.argument as AnyNode).type !== 'Identifier') return true;
  if (node.type === 'UnaryExpression' && node.operator === 'delete') return true;
  return children(node).some(storesProperty);
}

/** `yield` or `await`: other code runs before the loop goes on. */
function suspends(node: AnyNode): boolean {
  if (node.type === 'YieldExpression' || node.type === 'AwaitExpression') return true;
  if (FUNCTIONS.has(node.type)) return false;
  return children(node).some(suspends);
}

/**
 * Whether `name` is declared in `scope` (a function's parameters or body, or the program) and
 * assigned nowhere in it but its declaration: then nothing a loop in it calls can change it.
 */
function isUnassignedLocal(name: string, scope: AnyNode | undefined): boolean {
  if (scope === undefined) return false;
  const params = (scope.params as AnyNode[] | undefined) ?? [];
  const body = scope.body as AnyNode;
  // The loop's `name` is this declaration only if it is the scope's one: a `let name` in some
  // block may be another variable than the loop reads (an outer one, which calls may change).
  const inParams = params.some((param) => mentions(param, name));
  const declarations = countDeclarations(body, name);
  const declared = inParams ? declarations === 0 : declarations === 1 && declaresAtTop(body, name);
  return (
    declared &&
    !assignsAnywhere(body, name) &&
    !params.some((param) => hasDefault(param)) &&
    // A direct eval, `with`, or (sloppy) `arguments`, which aliases the parameters: assignments
    // that no assignment expression shows.
    !reachesUnseen(body)
  );
}

function countDeclarations(node: AnyNode | AnyNode[], name: string): number {
  if (Array.isArray(node)) return node.reduce((sum, child) => sum + countDeclarations(child, name), 0);
  if (node.type === 'VariableDeclarator' && mentions(node.id as AnyNode, name)) return 1;
  if (
    (node.type === 'ClassDeclaration' || node.type === 'FunctionDeclaration') &&
    isNode(node.id) &&
    isIdentifier(node.id, name)
  ) {
    return 1;
  }
  if (node.type === 'CatchClause' && isNode(node.param) && mentions(node.param, name)) return 1;
  if (FUNCTIONS.has(node.type)) return 0;
  return children(node).reduce((sum, child) => sum + countDeclarations(child, name), 0);
}

/** Whether a statement of `body` itself (a block or the program) declares `name`. */
function declaresAtTop(body: AnyNode, name: string): boolean {
  const statements = (body.body as AnyNode[] | undefined) ?? [];
  return statements.some((statement) => {
    const declaration =
      statement.type === 'ExportNamedDeclaration' ? (statement.declaration as AnyNode | null) : statement;
    return declaration?.type === 'VariableDeclaration' && declares(declaration, name);
  });
}

function reachesUnseen(node: AnyNode): boolean {
  if (node.type === 'WithStatement') return true;
  if (node.type === 'Identifier' && (node as unknown as acornTypes.Identifier).name === 'arguments') return true;
  if (node.type === 'CallExpression' && isIdentifier(node.callee as AnyNode, 'eval')) return true;
  return children(node).some(reachesUnseen);
}

function hasDefault(param: AnyNode): boolean {
  return param.type !== 'Identifier';
}

function declares(node: AnyNode | AnyNode[], name: string): boolean {
  if (Array.isArray(node)) return node.some((child) => declares(child, name));
  if (node.type === 'VariableDeclarator' && mentions(node.id as AnyNode, name)) return true;
  if (FUNCTIONS.has(node.type)) return false;
  return children(node).some((child) => declares(child, name));
}

/** Any assignment to `name`, nested functions included (`arguments` aside). */
function assignsAnywhere(node: AnyNode | AnyNode[], name: string): boolean {
  if (Array.isArray(node)) return node.some((child) => assignsAnywhere(child, name));
  if (assignsItself(node, name)) return true;
  return children(node).some((child) => assignsAnywhere(child, name));
}

/** `name` as an assignment target: itself, or inside a destructuring pattern (not `a[name]`). */
function mentionsAsTarget(node: AnyNode, name: string): boolean {
  if (isIdentifier(node, name)) return true;
  if (node.type === 'MemberExpression') return false;
  if (node.type === 'VariableDeclaration')
    return (node.declarations as AnyNode[]).some((d) => mentionsAsTarget(d.id as AnyNode, name));
  return children(node).some((child) => mentionsAsTarget(child, name));
}
