/** Finds where in the YAML source a field path points, so that every problem can name its line and column. */
import { isAlias, isMap, isNode, isScalar, isSeq, type Document, type Node } from 'yaml';

export type FieldPath = readonly PropertyKey[];

/**
 * Source offset of the node at `path`, or of the nearest existing parent when part of the path is missing.
 * With `onKey`, points at the last key itself rather than its value (for keys that should not be there).
 */
export function locate(doc: Document, path: FieldPath, onKey = false): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment));
      if (pair === undefined) break;
      const keyOffset = startOf(pair.key);
      // An empty value (`rate:`) has a zero-width node after the colon; the key is the better place to point at.
      const emptyValue = !isNode(pair.value) || (isScalar(pair.value) && pair.value.value === null);
      if ((onKey && i === path.length - 1) || emptyValue) {
        offset = keyOffset ?? offset;
        node = emptyValue ? null : pair.value;
        continue;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      node = node.items[segment];
    } else {
      break;
    }
    offset = startOf(node) ?? offset;
  }
  return offset;
}

/** `load.phases[1].rate`; keys that are not plain words are quoted: `size["io threads"]`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(String(segment))) out += out === '' ? String(segment) : `.${String(segment)}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function startOf(node: unknown): number | undefined {
  return isNode(node) ? (node as Node).range?.[0] : undefined;
}
