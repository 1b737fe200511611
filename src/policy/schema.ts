// Checks a loaded policy document against schema/buildfence-policy.schema.json (the same file
// editors use to complete it) and words each violation as: the key, what was found, what was
// expected, at the line and column of the offending node.
import { Ajv, type ErrorObject } from 'ajv';
import schema from '../../schema/buildfence-policy.schema.json' with { type: 'json' };
import type { Path, Position } from './yaml.js';

export interface SchemaProblem {
  position: Position;
  /** The key's path, as `grades.release.allow[1]`. */
  key: string;
  message: string;
}

// Compiled on first use: the action only pays for it when there is a policy file.
let validator: ReturnType<Ajv['compile']> | undefined;

export function schemaProblems(value: unknown, locate: (path: Path, key?: boolean) => Position): SchemaProblem[] {
  validator ??= new Ajv({ allErrors: true, verbose: true, strict: true }).compile(schema);
  if (validator(value)) return [];
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const error of validator.errors ?? []) {
    // The pattern a property name failed is also reported as a propertyNames error, worded below.
    if (error.propertyName !== undefined) continue;
    const path = pathOf(error.instancePath, value);
    const problem = describe(error, path, locate);
    const id = `${problem.key}\n${problem.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(problem);
  }
  return problems;
}

function describe(error: ErrorObject, path: Path, locate: (path: Path, key?: boolean) => Position): SchemaProblem {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      return {
        position: locate([...path, name], true),
        key: keyPath([...path, name]),
        message: `unknown key '${name}'; expected one of: ${known.join(', ')}`,
      };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      return {
        position: locate([...path, name], true),
        key: keyPath([...path, name]),
        message: `'${name}' is not a grade name; expected letters, digits, '-' and '_', starting with a letter or digit`,
      };
    }
    case 'required':
      return {
        position: locate(path),
        key: keyPath(path),
        message: `missing key '${String(params.missingProperty)}'${path.length === 0 ? "; expected 'grades:' with one or more grades" : ''}`,
      };
    case 'type':
      return {
        position: locate(path),
        key: keyPath(path),
        message: `expected ${typeName(String(params.type))}, found ${found(error.data)}`,
      };
    case 'enum':
      return {
        position: locate(path),
        key: keyPath(path),
        message: `expected one of ${(params.allowedValues as unknown[]).map((v) => `'${String(v)}'`).join(', ')}, found ${found(error.data)}`,
      };
    case 'pattern':
      return {
        position: locate(path),
        key: keyPath(path),
        message: `expected a grade name (letters, digits, '-' and '_'), found ${found(error.data)}`,
      };
    case 'minLength':
      return { position: locate(path), key: keyPath(path), message: 'expected an entry, found an empty string' };
    default:
      return { position: locate(path), key: keyPath(path), message: error.message ?? error.keyword };
  }
}

/** The instance path (`/grades/release/allow/1`) as keys and indexes. */
function pathOf(pointer: string, root: unknown): Path {
  if (pointer === '') return [];
  const path: Array<string | number> = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(node) ? Number(segment) : undefined;
    path.push(index ?? segment);
    node = (node as Record<string | number, unknown>)?.[index ?? segment];
  }
  return path;
}

/** `grades.release.allow[1]`; a key that is not a plain word is quoted: `grades["my grade"]`. */
export function keyPath(path: Path): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z0-9_-]+$/.test(s) ? `${i === 0 ? '' : '.'}${s}` : `[${JSON.stringify(s)}]`))
    .join('');
}

function typeName(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping (key: value lines)',
    array: 'a list',
    string: 'a string',
    boolean: 'true or false',
  };
  return names[type] ?? type;
}

function found(data: unknown): string {
  if (data === null || data === undefined) return 'nothing';
  if (Array.isArray(data)) return 'a list';
  if (typeof data === 'object') return 'a mapping';
  if (typeof data === 'string') return `'${data.length > 60 ? `${data.slice(0, 57)}...` : data}'`;
  return `${typeof data} ${JSON.stringify(data)}`;
}
