// What check-policy prints: per grade, the mode, fail-on-denied and the effective allow and
// deny lists, with presets expanded to canonical entries. Written as YAML, so it reads like the
// policy file with every `extends` applied.
import { formatEntry, PRESET_PREFIX } from './allowlist.js';
import type { Grade } from './grades.js';
import type { Policy } from './policy.js';
import type { Entry } from '../run/entry.js';

export function describePolicy(policy: Policy): string {
  const grades = [...policy.grades.values()];
  const own = grades.filter((g) => !g.builtIn).length;
  const builtIn = grades.filter((g) => g.builtIn).map((g) => g.name);
  const lines = [
    `# ${policy.file ?? 'no policy file'}: valid; ${own} grade${own === 1 ? '' : 's'}` +
      (builtIn.length > 0 ? `, and the built-in ${builtIn.join(' and ')}` : '') +
      '.',
  ];
  for (const g of grades) lines.push(...describeGrade(g));
  return lines.join('\n') + '\n';
}

function describeGrade(g: Grade): string[] {
  const notes = [g.builtIn ? 'built in' : '', g.chain.length > 1 ? `extends ${g.chain.slice(1).join(' -> ')}` : ''].filter(Boolean);
  return [
    `${g.name}:${notes.length > 0 ? `  # ${notes.join('; ')}` : ''}`,
    ...(g.description === undefined ? [] : [`  description: ${JSON.stringify(g.description)}`]),
    `  mode: ${g.mode}`,
    `  fail-on-denied: ${g.failOnDenied}`,
    ...list('allow', g.allow),
    ...list('deny', g.deny),
  ];
}

function list(key: string, entries: Entry[]): string[] {
  if (entries.length === 0) return [`  ${key}: []`];
  // `*.example.com` and `::/0` would read as YAML syntax unquoted.
  const texts = entries.map((e) => formatEntry(e)).map((t) => (/^[A-Za-z0-9]/.test(t) ? t : JSON.stringify(t)));
  const width = Math.max(...texts.map((t) => t.length));
  return [
    `  ${key}:`,
    ...entries.map((e, i) => `    - ${e.text.startsWith(PRESET_PREFIX) ? `${texts[i].padEnd(width)}  # ${e.text}` : texts[i]}`),
  ];
}
