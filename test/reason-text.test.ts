// The string fast path of interrupt reasons: it must read exactly what the codec reads, and leave
// every other value to the codec.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deserialize } from 'node:v8';
import { encodeReason } from '../src/reason.ts';
import { decodeStringReason, encodeStringReason } from '../src/reason-text.ts';
import { decodeValue, encodeValue } from '../src/runtime/node-codec.ts';

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

describe('encodeStringReason', () => {
  it('writes a Latin-1 string as V8 writes a one-byte string: the codec and the fast reader read it back', () => {
    // Byte for byte what V8 writes for a one-byte string (a literal is one).
    assert.deepEqual(encodeStringReason('SIGINT', 4088), new Uint8Array(encodeValue('SIGINT')));
    assert.deepEqual(encodeStringReason('y'.repeat(300), 4088), new Uint8Array(encodeValue('y'.repeat(300))));
    const strings = [
      '',
      'SIGINT',
      'process.exit',
      'x'.repeat(127),
      'x'.repeat(128),
      'x'.repeat(4000),
      '\u00e9\u00ff\0',
    ];
    for (let seed = 1; seed <= 2000; seed++) {
      const text = randomString(seed);
      if (/^[\0-\xff]*$/.test(text)) strings.push(text);
      strings.push(text.replace(/[^\0-\xff]/g, 'a'));
    }
    for (const text of strings) {
      const bytes = encodeStringReason(text, 4088);
      if (text.length > 4088) {
        assert.equal(bytes, undefined);
        continue;
      }
      assert.equal(deserialize(bytes!), text, JSON.stringify(text));
      assert.equal(decodeStringReason(bytes!), text);
      // What an interrupt writes for it: the same bytes.
      assert.deepEqual(encodeReason(text), bytes);
    }
  });

  it('leaves strings that are not Latin-1, or too long, to the codec', () => {
    assert.equal(encodeStringReason('\u20ac', 100), undefined);
    assert.equal(encodeStringReason('ab\u{1F600}', 100), undefined);
    assert.equal(encodeStringReason('abcd', 3), undefined);
    // encodeReason still encodes them, through the codec, and a thread reads them back as
    // src/current.ts does (the fast reader first: V8's bytes; the codec's own on Bun).
    const bytes = encodeReason('\u20ac')!;
    assert.equal(decodeStringReason(bytes) ?? decodeValue(bytes), '\u20ac');
  });
});
