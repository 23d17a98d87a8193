// A differential fuzz of the asyncInterrupt transform: seeded random loop programs (every loop
// kind, labels, break and continue on their paths, closures over loop bindings, bounds that the
// body or a call changes, steps that are not positive, comments holding `;` `(` `)`, bodies
// without their semicolons, class fields, generators, directives without their `;`, static
// blocks, default parameters) run as written and as instrumented (flag clear) and must return
// the same. It found the comment and class-field bugs test/async-interrupt-transform.test.ts
// pins; a wrong rewrite shows as another result or as a SyntaxError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInThisContext } from 'node:vm';
import * as acorn from 'acorn';
import MagicString from 'magic-string';
import { CHUNK, CHUNK_WITH_CALLS, FLAG_GLOBAL, TRAP_GLOBAL } from '../src/async-interrupt/check.ts';
import { instrument } from '../src/async-interrupt/transform.ts';

const tools = { parse: acorn.parse, MagicString };
const holder = globalThis as Record<string, unknown>;
holder[FLAG_GLOBAL] ??= new Int32Array(1);
holder[TRAP_GLOBAL] ??= () => {
  throw new Error('the trap ran with the flag clear');
};

/** Programs per seed, and the seeds: fixed, so that a failure names a program to replay. */
const PROGRAMS = 150;
const SEEDS = [1, 2, 3, 4];
/** Iteration counts around the chunk edges. */
const SIZES = [0, 1, 2, 3, 17, CHUNK_WITH_CALLS - 1, CHUNK_WITH_CALLS, CHUNK_WITH_CALLS + 1];
const BIG = [CHUNK / 2, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3];

class ProgramGenerator {
  #seed: number;
  #labels = 0;
  #inGenerator = false;

  constructor(seed: number) {
    this.#seed = seed;
  }

  /** A linear congruential generator: the same programs on every run and Node version. */
  #random(): number {
    this.#seed = (this.#seed * 1103515245 + 12345) & 0x7fffffff;
    return this.#seed / 0x7fffffff;
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)] as T;
  }

  #size(): number {
    return this.#random() < 0.6 ? this.#pick(SIZES) : this.#pick(BIG);
  }

  #gap(): string {
    return this.#pick([' ', ' ', '\n', '\n  ', ' /* c; ) ( */ ', ' // x;)\n']);
  }

  #statement(depth: number, vars: readonly string[], labels: readonly string[]): string {
    if (depth < 2 && this.#random() < 0.35) return this.#loop(depth + 1, vars, labels);
    const v = this.#pick(vars);
    const options = [
      `out.push(${v});`,
      `s += ${v};`,
      `s ^= ${v} * 3;`,
      `if (${v} % ${this.#pick([3, 7, 11])} === 0) continue;`,
      `if (${v} === ${this.#size()}) break;`,
      `fs.push(() => ${v});`,
      `fs.push(() => ${v}++);`,
      `if ((() => ${v})() === 9) s += 100;`,
      't++;',
      't = t + 1',
      `s += f(${v});`,
      `{ let q = ${v} + 1; s += q; }`,
      'if (s > 1e6) break; else s++;',
      '(s)',
      '[s][0]',
      `n${this.#pick(['', '--', '++'])};`,
      'o.x += 1;',
      `arr.push(${v});`,
      `switch (${v} % 3) { case 0: s++; case 1: s += 2; break; default: continue; }`,
      `s += new (class { x = ${v}\n y = 2 })().y;`,
      ...(labels.length > 0
        ? [`if (${v} % 13 === 1) continue ${this.#pick(labels)};`, `if (${v} === 77) break ${this.#pick(labels)};`]
        : []),
      ...(this.#inGenerator ? [`yield ${v};`, 's += (yield s) ?? 1;'] : []),
    ];
    return this.#pick(options) + this.#gap();
  }

  #loop(depth: number, vars: readonly string[], labels: readonly string[]): string {
    const i = `i${depth}`;
    const inner = [...vars, i];
    const label = this.#random() < 0.2 ? `L${this.#labels++}` : '';
    const innerLabels = label === '' ? labels : [...labels, label];
    const guard = "if (++guard > 200000) throw 'limit';";
    const body = (): string => {
      let text = `${guard} `;
      const statements = Math.floor(this.#random() * 4);
      for (let k = 0; k < statements; k++) text += this.#statement(depth, inner, innerLabels);
      return this.#random() < 0.15 ? text.replace(/;\s*$/, '') : text;
    };
    const bound = this.#pick([String(this.#size()), 'n', 'arr.length', 'o.x', 'N', 'bound']);
    const declaration = this.#pick(['let', 'let', 'var', 'const']);
    const prefix = label === '' ? '' : `${label}: `;
    const gap = this.#pick([' ', '\n', ' /* ; ( ) */ ']);
    switch (this.#pick(['for', 'for', 'for', 'while', 'do', 'for-of', 'for-in', 'for-no-test'])) {
      case 'for': {
        const operator = this.#pick(['<', '<=', '>', '>=']);
        const up = operator.startsWith('<');
        const update = up
          ? this.#pick([`${i}++`, `${i} += 1`, `${i} += 2`, `${i} += step`, `++${i}`, `${i}++, t++`])
          : this.#pick([`${i}--`, `${i} -= 1`, `${i} -= 3`, `${i} -= step`]);
        const test = up ? `${i} ${operator} ${bound}` : `${i} ${operator} 0`;
        const init = `${declaration === 'const' ? 'let' : declaration} ${i} = ${up ? '0' : bound}`;
        const withCall = this.#random() < 0.15 ? `${test} && g()` : test;
        return `${prefix}for (${init};${gap}${withCall}; ${update})${gap}{ ${body()} }\n`;
      }
      case 'for-no-test':
        return `${prefix}for (let ${i} = 0;; ${i}++) { ${guard} if (${i} >= ${bound}) break; ${body()} }\n`;
      case 'while': {
        const test = this.#pick([
          `${i} < ${bound}`,
          `${i}++ < ${bound}`,
          `g() && ${i} < ${bound}`,
          `(${i} < ${bound})`,
        ]);
        return `var ${i} = 0; ${prefix}while${gap}(${test})${gap}{ ${i}++; ${body()} }\n`;
      }
      case 'do':
        return `var ${i} = 0; ${prefix}do${gap}{ ${i}++; ${body()} } while (${this.#pick([`${i} < ${bound}`, `${i} < ${bound} && g()`])})\n`;
      case 'for-of':
        return `${prefix}for (${declaration} ${i} of arr.slice(0, 40)) { ${body()} }\n`;
      default:
        return `${prefix}for (${declaration} ${i} in { a: 1, b: 2 }) { ${body()} }\n`;
    }
  }

  /** A function body returning what the program did. */
  program(): string {
    this.#labels = 0;
    const context = this.#pick(['plain', 'generator', 'strict', 'strict;', 'static block', 'default parameter']);
    this.#inGenerator = context === 'generator';
    const loops = this.#loop(0, ['s', 't'], []) + (this.#random() < 0.5 ? this.#loop(0, ['s', 't'], []) : '');
    const code =
      context === 'generator'
        ? `function* gen() {\n'use strict'\n${loops} }\nfor (const y of gen()) out.push('y' + y);`
        : context === 'strict'
          ? `(function () {\n  'use strict'\n  ${loops} out.push(typeof this) })();`
          : context === 'strict;'
            ? `(function () { "use strict"; ${loops} out.push(typeof this) })();`
            : context === 'static block'
              ? `new (class { static { ${loops} } constructor() { out.push(1) } })();`
              : context === 'default parameter'
                ? `((q = (() => { ${loops} })()) => q)();`
                : loops;
    const size = (): number => this.#size();
    return `const N = ${this.#pick([3, 16, 1024, 2500])}; let n = ${size()}; let bound = ${size()}; let step = ${this.#pick([1, 2, 0.5, -1, 0])};
let s = 0, t = 0, guard = 0; const out = [], fs = []; const o = { x: ${size()} }; const arr = Array.from({ length: ${size()} }, (_, k) => k);
let calls = 0; const f = (x) => (calls++, x & 7); const g = () => (calls++ % 5000) !== 4999;
try {
${code}
} catch (e) { out.push('E:' + String(e)); }
return JSON.stringify([s, t, n, calls, guard, out.length, out.slice(0, 50), out.slice(-20), fs.slice(0, 30).map((h) => h()), o.x, arr.length]);`;
  }
}

describe('the asyncInterrupt transform keeps what random loop programs do', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${PROGRAMS} programs`, () => {
      const generator = new ProgramGenerator(seed);
      let compared = 0;
      for (let index = 0; index < PROGRAMS; index++) {
        const source = `(function () {\n${generator.program()}\n})`;
        let plain: unknown;
        try {
          plain = runInThisContext(source)();
        } catch {
          continue; // the generator wrote something that does not parse (a lost semicolon)
        }
        const { code } = instrument(source, 'fuzz.js', false, tools);
        let instrumented: unknown;
        try {
          instrumented = runInThisContext(code)();
        } catch (error) {
          instrumented = `threw ${String(error)}`;
        }
        assert.equal(instrumented, plain, `program ${index} of seed ${seed}:\n${source}\n\ninstrumented:\n${code}`);
        compared++;
      }
      // Most programs parse: the comparison is not vacuous.
      assert.ok(compared > PROGRAMS * 0.7, `only ${compared} programs ran`);
    });
  }
});
