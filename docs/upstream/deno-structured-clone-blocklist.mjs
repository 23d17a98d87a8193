// structuredClone() of a net.BlockList: Node copies it as a BlockList (its own clone support);
// Deno 2.9.6 copies it as a plain object.
//
//   node:  cloned: BlockList, blocks 10.0.0.1: true
//   deno:  cloned: Object, blocks 10.0.0.1: (no check method)
import { BlockList } from 'node:net';

const list = new BlockList();
list.addAddress('10.0.0.1');
const copy = structuredClone(list);
const blocks = typeof copy.check === 'function' ? copy.check('10.0.0.1') : '(no check method)';
console.log(`cloned: ${copy.constructor?.name}, blocks 10.0.0.1: ${blocks}`);
