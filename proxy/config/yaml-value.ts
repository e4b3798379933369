/**
 * The JavaScript value of a parsed policy document, as yaml's doc.toJS() gives it (an alias is the very object or value
 * of its anchor), with aliases bounded by what they stand for rather than by how often they are used.
 *
 * doc.toJS() refuses a document once one anchor is used more than maxAliasCount times (100 by default) with a bare
 * ReferenceError, which refused legitimate files that share a retry block among many routes; and it finds each alias's
 * anchor by scanning every earlier anchor and alias, so 10,000 aliases took seconds. Here one pass in document order
 * resolves each alias at once and adds up the nodes it stands for. Aliases share their anchor's value, so the value
 * itself stays small, but every later check (the schema, fingerprints, /config) walks it expanded: a document whose
 * aliases stand for more than MAX_ALIAS_EXPANSION nodes in all (an alias bomb, "billion laughs") is refused at the
 * alias that crosses the bound, by its line.
 */
import { isAlias, isMap, isPair, isScalar, type Document, type LineCounter, type Node, type Pair } from 'yaml';

/** Nodes all aliases together may stand for: 10,000 routes sharing a 100-node block stay under it. */
export const MAX_ALIAS_EXPANSION = 1_000_000;

/** A document whose value cannot be taken: the message names the line (`line N: ...`). */
export class YamlValueError extends Error {}

interface Resolved {
  value: unknown;
  /** Nodes this value stands for, aliases in it expanded. */
  size: number;
}

const EMPTY: Resolved = { value: null, size: 0 };

function keyString(key: unknown): string {
  if (key === null) return '';
  return typeof key === 'object' ? JSON.stringify(key) : String(key);
}

/** Sets `key` as an own property, `__proto__` included (assigning that would change the object's prototype). */
function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key in target) Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

export function documentValue(doc: Document.Parsed, lines: LineCounter): unknown {
  const anchors = new Map<string, Resolved>();
  let aliasExpansion = 0;
  const at = (node: Node) => (node.range ? `line ${lines.linePos(node.range[0]).line}: ` : '');

  const resolvePairs = (pairs: readonly Pair[]): Resolved => {
    const value: Record<string, unknown> = {};
    let size = 1;
    for (const pair of pairs) {
      const key = resolve(pair.key as Node | null);
      const item = resolve(pair.value as Node | null);
      size += key.size + item.size;
      setKey(value, keyString(key.value), item.value);
    }
    return { value, size };
  };

  const resolve = (node: Node | Pair | null | undefined): Resolved => {
    if (node === null || node === undefined) return EMPTY;
    // A pair in a sequence (`[a: 1]`) is a map of one key.
    if (isPair(node)) return resolvePairs([node]);
    if (isAlias(node)) {
      // The last anchor of that name before the alias, as in YAML; one whose node is still being read (a cycle) is not.
      const anchored = anchors.get(node.source);
      if (!anchored) throw new YamlValueError(`${at(node)}alias *${node.source} has no anchor &${node.source} before it`);
      aliasExpansion += anchored.size;
      if (aliasExpansion > MAX_ALIAS_EXPANSION) {
        throw new YamlValueError(
          `${at(node)}alias *${node.source}: the aliases so far stand for more than ${MAX_ALIAS_EXPANSION} nodes (an alias bomb?); the file is refused`,
        );
      }
      return anchored;
    }
    let resolved: Resolved;
    if (isScalar(node)) {
      resolved = { value: node.value, size: 1 };
    } else if (isMap(node)) {
      resolved = resolvePairs(node.items);
    } else {
      const value: unknown[] = [];
      let size = 1;
      for (const entry of node.items) {
        const item = resolve(entry as Node | Pair | null);
        size += item.size;
        value.push(item.value);
      }
      resolved = { value, size };
    }
    const anchor = node.anchor;
    if (anchor) anchors.set(anchor, resolved);
    return resolved;
  };
  return resolve(doc.contents).value;
}
