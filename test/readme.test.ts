// The README's error table lists every code the library creates: a code added to
// GracefulThreadsErrorCode without its row (cause and remedy) fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('README', () => {
  it('has a row in its error table for every error code', () => {
    const errors = read('src/coded-errors.ts');
    const union = errors.slice(
      errors.indexOf('export type GracefulThreadsErrorCode'),
      errors.indexOf(';', errors.indexOf('export type GracefulThreadsErrorCode')),
    );
    const codes = [...union.matchAll(/'(ERR_[A-Z_]+)'/g)].map((match) => match[1]!);
    assert.ok(codes.length >= 20, `found only ${codes.length} codes in the union`);
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf('## Errors'), readme.indexOf('\n## ', readme.indexOf('## Errors') + 1));
    const missing = codes.filter((code) => !table.includes(`| \`${code}\``));
    assert.deepEqual(missing, [], 'codes without a row in the README error table');
  });
});
