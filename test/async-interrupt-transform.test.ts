// The transform keeps what code does: each snippet runs as written and as instrumented (flag
// clear), and must return the same. They aim at the rewrites: loops strip-mined three ways,
// labels moved, break and continue on every path, bounds that are not numbers, steps that are
// not positive, chunk edges (the chunk is 2048 iterations), closures over loop bindings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInThisContext } from 'node:vm';
import * as acorn from 'acorn';
import MagicString from 'magic-string';
import { CHUNK, CHUNK_WITH_CALLS, FLAG_GLOBAL, TRAP_GLOBAL } from '../src/async-interrupt/check.ts';
import { instrument } from '../src/async-interrupt/transform.ts';

const tools = { parse: acorn.parse, MagicString };
const holder = globalThis as Record<string, unknown>;
holder[FLAG_GLOBAL] = new Int32Array(1);
holder[TRAP_GLOBAL] = () => {
  throw new Error('the trap ran with the flag clear');
};

/** Runs `body` (a function body) plain and instrumented; returns both results and the code. */
function both(body: string): { plain: unknown; instrumented: unknown; code: string } {
  const source = `(function () {\n${body}\n})`;
  const { code } = instrument(source, 'snippet.js', false, tools);
  // In the global scope, where the transform's globals are.
  const plain = runInThisContext(source)();
  const instrumented = runInThisContext(code)();
  return { plain, instrumented, code };
}

const snippets: Record<string, string> = {
  'counted, across chunk edges': `const out = []; for (const n of [0, 1, ${CHUNK - 1}, ${CHUNK}, ${CHUNK + 1}, ${3 * CHUNK + 7}]) { let s = 0; for (let i = 0; i < n; i++) s += i; out.push(s); } return out;`,
  'counted <=, decreasing >, >=, steps': `const out = []; const n = ${5 * CHUNK + 3};
    let a = 0; for (let i = 1; i <= n; i++) a += i; out.push(a);
    let b = 0; for (let i = n; i > 0; i--) b += i; out.push(b);
    let c = 0; for (let i = n; i >= 0; i -= 3) c += i; out.push(c);
    let d = 0; for (let i = 0; i < n; i += 7) d += i; out.push(d);
    let e = 0; for (let i = 0.5; i < n; i++) e += i; out.push(e); return out;`,
  'break and continue on every path': `const out = []; const n = ${4 * CHUNK};
    for (let i = 0; i < n; i++) { if (i % 3 === 0) continue; if (i === ${2 * CHUNK + 5}) break; out.push(i % 7); }
    let j = 0; while (j < n) { j++; if (j % 5) continue; if (j > ${3 * CHUNK}) break; out.push(j); }
    let k = 0; do { k++; if (k % 2) continue; out.push(k); } while (k < ${CHUNK + 10});
    return [out.length, out.reduce((s, x) => s + x, 0), j, k];`,
  labels: `let n = 0; const out = [];
    outer: for (let i = 0; i < 50; i++) { inner: for (let j = 0; j < ${CHUNK * 2}; j++) { n++; if (j === i * 100) continue outer; if (n > ${CHUNK * 20}) break outer; if (j % 2) continue inner; } out.push(i); }
    a: b: while (n > 0) { n -= 3; if (n % 11 === 0) break a; if (n % 2) continue b; }
    return [n, out];`,
  'bounds that are not numbers': `const out = [];
    let s = ''; for (let i = 0; i < '12'; i++) s += i; out.push(s);
    let t = 0; for (let i = 0; i < NaN; i++) t++; out.push(t);
    let u = 0; for (let i = 0n; i < 5n; i++) u++; out.push(u);
    let v = 0; const bound = { valueOf() { v++; return 3; } }; for (let i = 0; i < bound; i++) {} out.push(v);
    let w = 0; for (let i = 0; i < Infinity; i++) if (++w === ${CHUNK * 2 + 1}) break; out.push(w);
    return out;`,
  'variable steps, positive or not': `const out = [];
    for (const step of [1, 2, 3, 0.5]) { let s = 0; for (let j = 0; j <= ${CHUNK * 3}; j += step) s += j; out.push(s); }
    let z = 0; const zero = 0; for (let j = 0; j < 10; j += zero) { if (++z === ${CHUNK * 2 + 3}) break; } out.push(z);
    let m = 0; const minus = -1; for (let j = 0; j < 10; j += minus) { if (++m === 9) break; } out.push(m);
    return out;`,
  'bounds and steps changed by calls': `const out = []; let n = ${CHUNK * 3}; const shrink = () => { n = 10; };
    let a = 0; for (let i = 0; i < n; i++) { a++; if (i === 5) shrink(); } out.push(a);
    const arr = new Array(${CHUNK * 2}).fill(1); let b = 0; for (let i = 0; i < arr.length; i++) { b++; if (i === 7) arr.length = 9; } out.push(b);
    let c = 0; const grow = [1]; for (let i = 0; i < grow.length; i++) { c++; if (grow.length < ${CHUNK * 2}) grow.push(i); } out.push(c);
    return out;`,
  'tests with effects run once per iteration': `let calls = 0; const next = () => ++calls <= ${CHUNK * 2 + 9};
    let a = 0; while (next()) a++;
    let b = 0; calls = 0; for (; next(); ) b++;
    let c = 0; calls = 0; do { c++; } while (next());
    return [a, b, c, calls];`,
  'closures over loop bindings': `const fns = []; for (let i = 0; i < 5; i++) fns.push(() => i);
    const gs = []; for (let i = 0; i < ${CHUNK + 2}; i++) if (i % 1000 === 0) gs.push(() => i);
    return [fns.map((f) => f()), gs.map((g) => g())];`,
  'tight loops run two iterations per countdown step': `const out = []; const a = Array.from({ length: ${CHUNK * 2 + 3} }, (_, i) => i);
    for (const n of [0, 1, 2, 3, ${CHUNK - 1}, ${CHUNK}, ${CHUNK + 1}, ${CHUNK * 2 + 3}]) {
      let s = 0; let i = 0; while (i < n && a[i] !== undefined) { i++; if (i % 3 === 0) continue; s += i; }
      let t = 0; for (let j = 0; j < n && a[j] !== -1; j += 1) { if (j % 4 === 1) continue; if (j === ${CHUNK + 7}) break; t += j; }
      out.push(s, i, t);
    }
    return out;`,
  'multi-line bodies, with and without their semicolons': `let v = 0; let steps = 0; const out = [];
    for (let x = 1; x < 3000; x++) {
      v = x;
      while (v !== 1) {
        v = v & 1 ? 3 * v + 1 : v / 2;
        steps++;
      }
      let w = x
      while (w > 1) {
        w = w >> 1
        steps += 2
      }
    }
    out.push(steps);
    return out;`,
  'loops that call, across their smaller chunks': `const out = []; const n = ${CHUNK_WITH_CALLS * 3 + 5};
    for (let i = 0; i < n; i++) { if (i % 7 === 0) continue; out.push(i); if (out.length > ${CHUNK_WITH_CALLS * 2 + 3}) break; }
    let j = 0; while (String(j).length < 3) { j++; if (j % 9 === 0) continue; out.push(-j); }
    let q = 0; do q++; while (Math.max(q, 0) < ${CHUNK_WITH_CALLS + 1} && out.push(q));
    return [out.length, out.reduce((s, x) => s + x, 0), j, q];`,
  'small counted loops, const bounds': `const N = 16; let s = 0; for (let i = 0; i < N; i++) for (let j = 0; j <= 8; j++) s += i * j; return s;`,
  'for-of, for-in, generators': `function* g() { for (let i = 0; i < ${CHUNK + 3}; i++) yield i; }
    let s = 0; for (const x of g()) s += x; const o = { a: 1, b: 2 }; let keys = ''; for (const k in o) keys += k;
    return [s, keys, [...g()].length];`,
  'single-statement bodies and nesting': `let s = 0; const n = ${CHUNK + 5};
    for (let i = 0; i < n; i++) if (i % 2) for (let j = 0; j < 3; j++) s += j; else while (s > 1e9) s--;
    if (s > 0) for (let i = 0; i < n; i++) s -= 1; else s = -1;
    for (;;) break;
    let q = 0; for (;; q++) if (q > ${CHUNK + 1}) break;
    return [s, q];`,
  'directives, arrows, methods, getters, recursion': `'use strict';
    const fib = (n) => n < 2 ? n : fib(n - 1) + fib(n - 2);
    const o = { get x() { return fib(10); }, m() { 'use strict'; return this.x + 1; } };
    class C { static s = fib(5); #p = 3; get p() { return this.#p; } run() { return [1, 2].map((x) => x * this.p); } }
    return [o.m(), C.s, new C().run(), typeof this];`,
  // Review of issue 14: each of these failed (a SyntaxError, or another result) before its fix.
  'a directive without its semicolon': `function f() {
      'use strict'
      return [typeof this, g()]; }
    function g() { return typeof this; }
    return f();`,
  'a closure in the init of a for over let': `const out = []; for (let i = 0, get = () => i; i < 3; i++) out.push(get()); return out;`,
  'comments holding the parentheses and semicolons a loop is found by': `let i = 0; while (i < ${CHUNK * 2}) /* ) */ i++;
    let j = 0; while /* ( */ (j < ${CHUNK * 2}) j++;
    let k = 0; for (/* ; */; k < ${CHUNK * 2};) k++;
    let s = 0; for (let m = 0 /* ; */; m < ${CHUNK * 2}; m++) s += m;
    return [i, j, k, s];`,
  'bounds changed where no assignment shows: eval, arguments, a shadowing block': `const out = [];
    let n = ${CHUNK * 4}; let a = 0; for (let i = 0; i < n; i++) { a++; if (i === 5) eval('n = 7'); } out.push(a);
    function set(args) { args[0] = 4; }
    function g(m) { let c = 0; for (let i = 0; i < m; i++) { c++; if (i === 2) set(arguments); } return c; }
    out.push(g(${CHUNK * 4}));
    let bound = ${CHUNK * 4}; const shrink = (i) => { if (i === 5) bound = 7; };
    function h() { { let bound = 1; } let c = 0; for (let i = 0; i < bound; i++) { c++; shrink(i); } return c; }
    out.push(h());
    return out;`,
  'a closure that a direct eval makes over a for-let binding': `const fs = []; const n = ${CHUNK * 2};
    for (let i = 0; i < n; i++) if (i % 1000 === 0) fs.push(eval('() => i'));
    return fs.map((f) => f());`,
  'a tight multi-line body with a class field that ends at its line break': `let i = 0; const out = [];
    while (i < ${CHUNK * 2}) { i++; out.push(new (class { x = i
      y = 2 })().y); }
    return out.length;`,
  'async functions and generators keep their order': `const order = []; async function f() { for (let i = 0; i < 3; i++) { order.push(i); await null; } }
    f(); order.push('sync'); return order;`,
};

describe('the asyncInterrupt transform keeps what code does', () => {
  for (const [name, body] of Object.entries(snippets)) {
    it(name, () => {
      const { plain, instrumented, code } = both(body);
      assert.deepEqual(instrumented, plain, code);
    });
  }

  it('keeps every line where it was', () => {
    const source = Object.values(snippets)
      .map((body) => `{\n${body}\n}`)
      .join('\n');
    const { code } = instrument(`(function () {\n${source}\n})`, 'snippet.js', false, tools);
    const lines = code.split('\n//# sourceMappingURL=')[0]!.split('\n');
    assert.equal(lines.length, source.split('\n').length + 2);
  });

  it('hands code it cannot parse back as a SyntaxError, for Node to report', () => {
    assert.throws(() => instrument('let x = = 1;', 'bad.js', true, tools), SyntaxError);
  });

  it('leaves a module with nothing to check unchanged', () => {
    const source = 'export const x = 1;\nexport function add(a, b) { return a + b; }\n';
    assert.equal(instrument(source, 'leaf.js', true, tools).code, source);
  });
});
