// The string fast path of interrupt reasons: it must read exactly what the codec reads, and leave
// every other value to the codec.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deserialize } from 'node:v8';
import { decodeStringReason } from '../src/reason-text.ts';
import { encodeValue } from '../src/runtime/node-codec.ts';

function randomString(seed: number): string {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x;
  };
  const length = next() % 300;
  let text = '';
  for (let i = 0; i < length; i++) {
    const kind = next() % 4;
    // ASCII, Latin-1, the BMP (lone surrogates included), and astral pairs.
    if (kind === 0) text += String.fromCharCode(32 + (next() % 95));
    else if (kind === 1) text += String.fromCharCode(next() % 256);
    else if (kind === 2) text += String.fromCharCode(next() % 0x10000);
    else text += String.fromCodePoint(0x10000 + (next() % 0xfffff));
  }
  return text;
}

describe('decodeStringReason', () => {
  it('reads every string as the codec does: 2,000 random ones, long, empty, Latin-1 and not', () => {
    const strings = ['', 'SIGINT', 'x'.repeat(4000), '\u00e9'.repeat(3000), '\u20ac'.repeat(1500), '\0\0'];
    for (let seed = 1; seed <= 2000; seed++) strings.push(randomString(seed));
    for (const text of strings) {
      const bytes = encodeValue(text);
      assert.equal(deserialize(bytes), text);
      assert.equal(decodeStringReason(bytes), text, JSON.stringify(text));
    }
  });

  it('leaves everything that is not a lone string to the codec', () => {
    for (const value of [0, 42, -1.5, true, null, { a: 'b' }, ['s'], new String('boxed'), 10n, new Error('e')]) {
      assert.equal(decodeStringReason(encodeValue(value)), undefined, String(value));
    }
    // Cut short or with bytes after it: not read as a string.
    const bytes = encodeValue('SIGINT');
    assert.equal(decodeStringReason(bytes.subarray(0, bytes.length - 1)), undefined);
    assert.equal(decodeStringReason(new Uint8Array([...bytes, 0x22])), undefined);
    assert.equal(decodeStringReason(new Uint8Array([])), undefined);
  });
});
