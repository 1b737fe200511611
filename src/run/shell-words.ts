// Shell-like word splitting for inputs that hold a command or options, without a shell: quotes
// group words, but variables, globs, operators and comments are refused rather than expanded.
import { parse } from 'shell-quote';

/** A `$NAME`, `${...}` or `$(...)` that a shell would expand (shell-quote returns a copy of it). */
interface Variable {
  variable: string;
}

const isVariable = (word: object): word is Variable => 'variable' in word;

/** Every problem is reported, not just the first; `label` names the input or flag in messages. */
export function splitWords(value: string, label: string): string[] {
  const problems = scanQuotes(value, label);
  const words: string[] = [];
  for (const word of parse(value, (name): Variable => ({ variable: name }))) {
    if (typeof word === 'string') words.push(word);
    else if (isVariable(word)) {
      const name = word.variable;
      const shown = name === '' ? '$' : /^\w+$/.test(name) ? `$${name}` : `\${${name}}`;
      problems.push(
        `${label} refuses '${shown}': variables and command substitutions are not expanded (no shell reads this input). ` +
          "Write the value itself, or put a literal '$' in single quotes.",
      );
    } else if ('comment' in word) {
      problems.push(`${label} refuses '#${word.comment}': comments are not allowed here. Remove it.`);
    } else if (word.op === 'glob') {
      problems.push(`${label} refuses '${word.pattern}': glob patterns are not expanded. Quote it if you mean it literally.`);
    } else {
      problems.push(`${label} refuses '${word.op}': shell operators have no meaning here (no shell reads this input).`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return words;
}

/** shell-quote silently closes an open quote and keeps backticks as text; a shell would not. */
function scanQuotes(value: string, label: string): string[] {
  const problems: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (c === '\\') {
      i++;
    } else if (c === '`') {
      problems.push(`${label} refuses '\`': command substitution is not run (no shell reads this input). Write the value itself.`);
      return problems;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(value[i - 1]))) {
      break; // a comment, reported by the caller
    }
  }
  if (quote !== undefined) problems.push(`${label} has an unterminated ${quote} quote. Close it.`);
  return problems;
}
