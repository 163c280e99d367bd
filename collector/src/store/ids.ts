import { randomBytes } from 'node:crypto';

let lastMs = 0;
let sequence = 0;

/**
 * `prefix_` + time + sequence + randomness: ids made later sort later, also within one
 * millisecond (items of one import keep their file order when sorted by id).
 */
export function sortableId(prefix: string): string {
  const now = Date.now();
  sequence = now === lastMs ? sequence + 1 : 0;
  lastMs = now;
  return `${prefix}_${now.toString(36).padStart(9, '0')}${sequence.toString(36).padStart(4, '0')}${randomBytes(4).toString('hex')}`;
}
