// The code a thread runs on its way out, between an interrupt and join() settling, and nowhere
// earlier: V8 compiles a function on its first call (10-30 us each on a loaded machine), so these
// are parenthesized function expressions, which V8 compiles with the module instead (on Node 20
// too; a parenthesized arrow only on 24 and newer). This checks that the hint survives the build.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const EXIT_PATH = [
  'markEnded',
  'markFinished',
  'isLive',
  'liveWord',
  'unpark',
  'parkIndex',
  'outputInFlight',
  'endThread',
  'last',
  'threadEnded',
];

describe("the thread's exit path", () => {
  it('is compiled with the package entry, not on its first call', () => {
    const entry = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8');
    for (const name of EXIT_PATH) {
      // esbuild may suffix a function expression's own name (markEnded2) beside a binding of it.
      assert.match(
        entry,
        new RegExp(`\\(function ${name}\\d*\\(`),
        `${name} is not a parenthesized function expression`,
      );
      assert.doesNotMatch(entry, new RegExp(`^\\s*function ${name}\\(`, 'm'), `${name} is a function declaration`);
    }
  });
});
