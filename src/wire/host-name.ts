// The name a connection carries (TLS server_name, HTTP Host), read strictly: the check compares
// it with the allowlist's names, so anything a name entry could not spell is refused. Pure.

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * `text` in lower case without one trailing dot, or undefined when it is not a host name:
 * empty labels, a label over 63 characters or with other characters than letters, digits, '-'
 * and '_', a name over 253 characters, an all-digit last label (an IPv4 address) or an IPv6 literal.
 */
export function readHostName(text: string): string | undefined {
  const name = (text.endsWith('.') ? text.slice(0, -1) : text).toLowerCase();
  if (name.length === 0 || name.length > 253) return undefined;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return undefined;
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return undefined;
  return name;
}

/** At most 80 characters of `text` (it came from the build; the report escapes what it shows). */
export function clipped(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
