// Grades: the built-in ones, and resolving `extends` chains into what a grade finally allows.
import { uniqueEntries } from './allowlist.js';
import type { Entry, Mode } from '../run/entry.js';

/** A grade as written: every field may be left to the grade it extends. */
export interface GradeSpec {
  description?: string;
  extends?: string;
  mode?: Mode;
  failOnDenied?: boolean;
  allow: Entry[];
  deny: Entry[];
}

/** A grade with its chain applied. */
export interface Grade {
  name: string;
  description?: string;
  /** The grade, then each grade it extends: ['release', 'base']. */
  chain: string[];
  builtIn: boolean;
  mode: Mode;
  failOnDenied: boolean;
  /** Each grade's entries after those of the grade it extends, each kept once. */
  allow: Entry[];
  deny: Entry[];
}

export const BUILTIN_GRADES: Readonly<Record<string, GradeSpec>> = {
  dev: { mode: 'audit', description: 'everything allowed and recorded', allow: [], deny: [] },
  release: { mode: 'block', description: 'default deny, only the allowlist', allow: [], deny: [] },
};

/** A grade whose chain sets no mode blocks: a forgotten mode must not open the fence. */
const DEFAULT_MODE: Mode = 'block';

export interface GradeProblem {
  /** The grade whose `extends` is wrong. */
  grade: string;
  message: string;
}

/**
 * Resolves every grade of a policy. The policy's grades replace built-in grades of the same
 * name; the other built-in grades stay available, also as `extends` targets.
 */
export function resolveGrades(specs: Readonly<Record<string, GradeSpec>>): { grades: Map<string, Grade>; problems: GradeProblem[] } {
  const all: Record<string, GradeSpec> = { ...BUILTIN_GRADES, ...specs };
  const known = Object.keys(all).sort();
  // The file's grades in its order, then the built-in grades it leaves.
  const order = [...Object.keys(specs), ...Object.keys(BUILTIN_GRADES).filter((g) => !Object.hasOwn(specs, g))];
  const problems: GradeProblem[] = [];
  const reported = new Set<string>();
  const grades = new Map<string, Grade>();
  for (const name of order) {
    const chain = [name];
    let failed = false;
    for (let next = all[name].extends; next !== undefined; next = all[next].extends) {
      if (!Object.hasOwn(all, next)) {
        // Reported by the grade that names it; grades extending that one fail with it.
        if (chain.length === 1) problems.push({ grade: name, message: `unknown grade '${next}'; expected one of: ${known.join(', ')}` });
        failed = true;
        break;
      }
      const loop = chain.indexOf(next);
      if (loop >= 0) {
        const cycle = chain.slice(loop);
        // Reported once, at the grade where the walk entered the loop; grades leading into it fail too.
        if (!cycle.some((g) => reported.has(g))) {
          cycle.forEach((g) => reported.add(g));
          problems.push({
            grade: cycle[0],
            message: `extends loops: ${[...cycle, next].join(' -> ')}; expected a chain that ends at a grade without 'extends'`,
          });
        }
        failed = true;
        break;
      }
      chain.push(next);
    }
    if (!failed) grades.set(name, merge(name, chain, all));
  }
  return { grades, problems };
}

function merge(name: string, chain: string[], all: Record<string, GradeSpec>): Grade {
  const specs = chain.map((g) => all[g]);
  const root = [...specs].reverse();
  return {
    name,
    description: specs[0].description,
    chain,
    builtIn: all[name] === BUILTIN_GRADES[name],
    mode: specs.find((s) => s.mode !== undefined)?.mode ?? DEFAULT_MODE,
    failOnDenied: specs.find((s) => s.failOnDenied !== undefined)?.failOnDenied ?? false,
    allow: uniqueEntries(root.flatMap((s) => s.allow)),
    deny: uniqueEntries(root.flatMap((s) => s.deny)),
  };
}
