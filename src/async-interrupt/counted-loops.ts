/**
 * Static analysis of counted loops (`for (let i = 0; i < n; i++)`): whether a loop's trip count is
 * a small constant (left unchecked), and whether its index, bound and step stay put while a chunk
 * of it runs (strip-mined by moving the bound, ./loop-rewrite.ts).
 */
import type * as acornTypes from 'acorn';
import { SMALL_TRIP_COUNT } from './check.js';
import {
  type AnyNode,
  assigns,
  callsSomething,
  children,
  hasLoop,
  isIdentifier,
  isNumber,
  isUnassignedLocal,
  type LoopNode,
  storesProperty,
  suspends,
} from './syntax-tree.js';

/** `for (let i = 0; i < 16; i++)` with `i` not assigned in the body: at most 16 back-edges. */
export function isSmallCountedLoop(loop: LoopNode, constants: ReadonlyMap<string, number>): boolean {
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
export function numericConstants(program: AnyNode): Map<string, number> {
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

/** A loop {@link countedLoop} found counted: `for (...; index < bound; index += step)`. */
export interface CountedLoop {
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
 *
 * @param scope the function (or the program) the loop is in.
 */
export function countedLoop(loop: LoopNode, scope: AnyNode | undefined): CountedLoop | undefined {
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
    if (inside.some((node) => callsSomething(node)) && !isUnassignedLocal(name, scope)) return undefined;
  }
  if (bound.type === 'MemberExpression') {
    // `a.length` changes under `a.push(x)` or `b[n] = x` with b === a: no call, no store to any property.
    if (inside.some((node) => callsSomething(node) || storesProperty(node) || suspends(node))) return undefined;
  } else if (bound.type === 'Identifier') {
    if (inside.some((node) => suspends(node))) return undefined;
    if (inside.some((node) => callsSomething(node)) && !isUnassignedLocal(root, scope)) return undefined;
  }
  return { index, bound, increasing, step: step.size };
}

/** How `update` moves `index`: `i++`, `i -= 2`, `i += step` (a variable); else undefined. */
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
    // `j += i`: a variable step, checked positive as each chunk starts (stripMine)
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
function boundRoot(bound: AnyNode): string | undefined {
  if (isNumber(bound)) return '';
  if (bound.type === 'Identifier') return (bound as unknown as acornTypes.Identifier).name;
  if (bound.type === 'MemberExpression' && !bound.computed && (bound.property as AnyNode).type === 'Identifier') {
    return boundRoot(bound.object as AnyNode);
  }
  return undefined;
}
