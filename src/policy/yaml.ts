// YAML to a plain value, with the source position of every node, so that problems found after
// parsing (schema, entry grammar, extends) can name a line and column.
import yaml from 'js-yaml';

/** 1-based, as editors count. */
export interface Position {
  line: number;
  column: number;
}

/** Keys and sequence indexes from the document's root. */
export type Path = ReadonlyArray<string | number>;

export interface LoadedYaml {
  value: unknown;
  /**
   * Where the node at `path` starts, or its key when `key` is set. A path that leaves the tree
   * (a merge key, an alias, an empty value) gives the nearest node on the way.
   */
  locate(this: void, path: Path, key?: boolean): Position;
}

export class YamlError extends Error {
  constructor(
    readonly reason: string,
    readonly position: Position,
  ) {
    super(reason);
    this.name = 'YamlError';
  }
}

/** A node as js-yaml's listener reports it; a mapping's children alternate key and value. */
interface Node {
  start: number;
  result: unknown;
  /** Nothing was written (`key:` alone): its start is wherever the next token is. */
  empty: boolean;
  children: Node[];
}

export function loadYaml(source: string): LoadedYaml {
  // js-yaml drops a byte order mark itself; dropping it here keeps offsets and columns in step.
  const text = source.replace(/^\uFEFF/, '');
  const lines = lineStarts(text);
  const stack: Node[] = [];
  // One per document; only a stream of one document loads.
  const roots: Node[] = [];
  let value: unknown;
  try {
    value = yaml.load(text, {
      // YAML 1.2 core: no timestamps or binary, so a value is what it looks like.
      schema: yaml.CORE_SCHEMA,
      listener(event, state) {
        if (event === 'open') {
          // The reported offset can sit before the separating blanks and comments.
          stack.push({ start: skipBlank(text, state.position), result: undefined, empty: false, children: [] });
          return;
        }
        const node = stack.pop()!;
        node.result = state.result;
        node.empty = state.kind === null && state.result === null;
        if (stack.length > 0) stack[stack.length - 1].children.push(node);
        else roots.push(node);
      },
    });
  } catch (err) {
    if (!(err instanceof yaml.YAMLException)) throw err;
    // Only "more than one document" comes without a mark: point at the second one.
    if (!err.mark) throw new YamlError(err.reason, at(lines, roots[1]?.start ?? 0));
    throw new YamlError(err.reason, { line: err.mark.line + 1, column: err.mark.column + 1 });
  }
  const root = roots[0];
  return {
    value,
    locate(path, key = false) {
      return at(lines, root ? find(unwrap(root), path, key).start : 0);
    },
  };
}

function at(lines: number[], offset: number): Position {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lines[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lines[lo] + 1 };
}

function find(node: Node, path: Path, key: boolean): Node {
  if (path.length === 0) return node;
  const [segment, ...rest] = path;
  const result = node.result;
  if (Array.isArray(result) && typeof segment === 'number') {
    const child = elements(node)[segment];
    return child ? find(child, rest, key) : node;
  }
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    const pair = pairs(node).find((p) => p.name === String(segment));
    if (!pair) return node;
    if (!pair.value || (key && rest.length === 0)) return pair.key;
    return find(pair.value, rest, key);
  }
  return node;
}

/** A node that merely wraps another with the same result (a tag, a block sequence entry). */
function unwrap(node: Node): Node {
  let n = node;
  while (n.children.length === 1 && Object.is(n.children[0].result, n.result)) n = n.children[0];
  return n;
}

/** Sequence elements by index; an empty entry (`- ` alone) has no node, so match in order. */
function elements(node: Node): Array<Node | undefined> {
  const items = node.result as unknown[];
  const out: Array<Node | undefined> = [];
  let next = 0;
  for (const item of items) {
    const child = node.children[next];
    if (child && Object.is(child.result, item)) {
      out.push(unwrap(child));
      next++;
    } else {
      out.push(undefined);
    }
  }
  return out;
}

/** Key and value nodes of a mapping; a key without a value (`{a, b: 1}`) has no value node. */
function pairs(node: Node): Array<{ name: string; key: Node; value?: Node }> {
  const object = node.result as Record<string, unknown>;
  const out: Array<{ name: string; key: Node; value?: Node }> = [];
  for (let i = 0; i < node.children.length; i++) {
    const k = node.children[i];
    // Merge keys (`<<: *base`) and their aliases name no property of their own.
    if (typeof k.result === 'object' && k.result !== null) continue;
    const name = String(k.result);
    if (!Object.hasOwn(object, name)) continue;
    const v = node.children[i + 1];
    if (v && Object.is(v.result, object[name])) {
      out.push({ name, key: unwrap(k), value: v.empty ? undefined : unwrap(v) });
      i++;
    } else {
      out.push({ name, key: unwrap(k) });
    }
  }
  return out;
}

function skipBlank(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else if (c === '#') while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
    else break;
  }
  return i;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (const m of text.matchAll(/\r\n|\r|\n/g)) starts.push(m.index + m[0].length);
  return starts;
}
