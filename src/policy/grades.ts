// Built-in grades. A policy file (a later feature) will add named grades of its own.
import type { Mode } from '../types.js';

export interface Grade {
  mode: Mode;
  description: string;
}

export const BUILTIN_GRADES: Record<string, Grade> = {
  dev: { mode: 'audit', description: 'everything allowed and recorded' },
  release: { mode: 'block', description: 'default deny, only the allowlist' },
};

export function resolveGrade(name: string): Grade {
  const grade = Object.hasOwn(BUILTIN_GRADES, name) ? BUILTIN_GRADES[name] : undefined;
  if (!grade) {
    throw new Error(
      `Input 'grade' has unknown grade '${name}'. Known grades: ${Object.keys(BUILTIN_GRADES).join(', ')}.`,
    );
  }
  return grade;
}
