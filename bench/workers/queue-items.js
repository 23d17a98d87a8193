// The items both sides of bench/queue.js send: the same values, made the same way.
const NAMES = Array.from({ length: 64 }, (_, i) => `item-${i}`);

/** The `i`th item of a kind: a small integer, or a small object { id, name }. */
export function itemOf(kind, i) {
  return kind === 'number' ? i : { id: i, name: NAMES[i & 63] };
}
