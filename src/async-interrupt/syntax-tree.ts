/**
 * Queries over acorn's syntax tree that the transform decides by: what a piece of code may do
 * (call, suspend, store to a property, assign a variable, close over a binding) and its shape
 * (loops, functions). Conservative: "may" answers true whenever it cannot tell.
 */
import type * as acornTypes from 'acorn';

/** Any node of acorn's tree, its fields read by name. */
export type AnyNode = acornTypes.Node & Record<string, unknown>;
/** A function declaration, expression or arrow. */
export type FunctionNode = acornTypes.Function & AnyNode;
/** `for`, `while`, `do ... while`, `for...in`, `for...of`. */
export type LoopNode = (
  | acornTypes.ForStatement
  | acornTypes.WhileStatement
  | acornTypes.DoWhileStatement
  | acornTypes.ForInStatement
  | acornTypes.ForOfStatement
) &
  AnyNode;

/** The node types of {@link LoopNode}. */
export const LOOPS = new Set([
  'ForStatement',
  'WhileStatement',
  'DoWhileStatement',
  'ForInStatement',
  'ForOfStatement',
]);
/** The node types of {@link FunctionNode}. */
export const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** The nodes directly under `node`, in source order. */
export function children(node: AnyNode): AnyNode[] {
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

/** Whether `value` is a node (not a position, a name or a literal's value). */
export function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** Whether `node` is a number literal. */
export function isNumber(node: acornTypes.Node | null | undefined): node is acornTypes.Literal {
  return node?.type === 'Literal' && typeof (node as acornTypes.Literal).value === 'number';
}

/** Whether `node` is the identifier `name`. */
export function isIdentifier(node: acornTypes.Node, name: string): boolean {
  return node.type === 'Identifier' && (node as acornTypes.Identifier).name === name;
}

/** Whether running `node` can call a function (outside nested functions, which are their own). */
export function callsSomething(node: AnyNode): boolean {
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

/** Whether `node` is or holds a loop, or a function (which may run one). */
export function hasLoop(node: AnyNode): boolean {
  return LOOPS.has(node.type) || FUNCTIONS.has(node.type) || children(node).some(hasLoop);
}

/** Whether a closure inside `nodes` (or one a direct eval makes) could capture a per-iteration binding. */
export function hasClosure(nodes: readonly (AnyNode | null | undefined)[]): boolean {
  const find = (node: AnyNode): boolean =>
    FUNCTIONS.has(node.type) ||
    node.type === 'ClassBody' ||
    (node.type === 'CallExpression' && isIdentifier(node.callee as AnyNode, 'eval')) ||
    children(node).some(find);
  return nodes.some((node) => node != null && find(node));
}

/** Whether `node` holds a `yield` or `await`: other code runs before the loop goes on. */
export function suspends(node: AnyNode): boolean {
  if (node.type === 'YieldExpression' || node.type === 'AwaitExpression') return true;
  if (FUNCTIONS.has(node.type)) return false;
  return children(node).some(suspends);
}

/** Whether `node` may store to or delete a property (any assignment to something not a variable). */
export function storesProperty(node: AnyNode): boolean {
  if (node.type === 'AssignmentExpression' && (node.left as AnyNode).type !== 'Identifier') return true;
  if (node.type === 'UpdateExpression' && (node.argument as AnyNode).type !== 'Identifier') return true;
  if (node.type === 'UnaryExpression' && node.operator === 'delete') return true;
  return children(node).some(storesProperty);
}

/**
 * Whether evaluating `test` once more changes nothing: identifiers, literals, `this`, property
 * reads and operators, no call, assignment, `delete`, `yield` or `await`. (A getter or a Proxy
 * on the way is run again, once per chunk: code that counts its own property reads is not
 * what loops are made of.)
 */
export function isPure(test: AnyNode): boolean {
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
export function assigns(node: AnyNode, name: string): boolean {
  if (FUNCTIONS.has(node.type) || node.type === 'ClassBody') return true;
  if (assignsItself(node, name)) return true;
  for (const child of children(node)) if (assigns(child, name)) return true;
  return false;
}

/** Whether the identifier `name` occurs in `node`. */
function mentions(node: AnyNode, name: string): boolean {
  if (isIdentifier(node, name)) return true;
  for (const child of children(node)) if (mentions(child, name)) return true;
  return false;
}

/**
 * Whether `name` is declared in `scope` (a function's parameters or body, or the program) and
 * assigned nowhere in it but its declaration: then nothing a loop in it calls can change it.
 */
export function isUnassignedLocal(name: string, scope: AnyNode | undefined): boolean {
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

/** How many declarations of `name` `node` holds, nested functions aside. */
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

/** Whether `node` may assign variables where no assignment shows: `with`, `arguments`, direct eval. */
function reachesUnseen(node: AnyNode): boolean {
  if (node.type === 'WithStatement') return true;
  if (node.type === 'Identifier' && (node as unknown as acornTypes.Identifier).name === 'arguments') return true;
  if (node.type === 'CallExpression' && isIdentifier(node.callee as AnyNode, 'eval')) return true;
  return children(node).some(reachesUnseen);
}

/** Whether a parameter has a default or destructures (its own scope: not a plain binding). */
function hasDefault(param: AnyNode): boolean {
  return param.type !== 'Identifier';
}

/** Whether `node` declares `name` with `var`, `let` or `const`, nested functions aside. */
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
