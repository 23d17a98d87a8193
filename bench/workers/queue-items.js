// The items both sides of bench/queue.js send: the same values, made the same way.
const NAMES = Array.from({ length: 64 }, (_, i) => `item-${i}`);

/** The `i`th item of a kind: a small integer, or a small object { id, name }. */
export function itemOf(kind, i) {
  return kind === 'number' ? i : { id: i, name: NAMES[i & 63] };
}

/** The id an item carries (what itemOf made it from), checking it is whole. */
export function idOf(kind, item) {
  if (kind === 'number') {
    if (typeof item !== 'number') throw new Error(`bad item ${item}`);
    return item;
  }
  if (typeof item?.name !== 'string') throw new Error(`bad item ${JSON.stringify(item)}`);
  return item.id;
}
