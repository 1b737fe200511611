// How the docker CLI reads the values of its flags: Go's strconv and time parsers (through pflag),
// docker's go-units sizes and ulimits, encoding/csv records. Pure; each throws a ValueError that
// says what was expected, for the translation of `docker create` options (create-body.ts).

export class ValueError extends Error {}

function fail(message: string): never {
  throw new ValueError(message);
}

/**
 * strconv.ParseInt/ParseUint with base 0, as pflag reads every integer flag: `0x` hex, `0o` or
 * a leading `0` octal, `0b` binary, `_` between digits; `bits` and `signed` give the range.
 */
export function goInt(text: string, bits = 64, signed = true): number {
  const sign = /^[+-]/.test(text) && signed ? text[0] : '';
  let s = text.slice(sign.length);
  let base = 10;
  if (s.length > 1 && s[0] === '0') {
    const p = s[1].toLowerCase();
    [base, s] = s.length >= 3 && (p === 'b' || p === 'o' || p === 'x') ? [{ b: 2, o: 8, x: 16 }[p], s.slice(2)] : [8, s.slice(1)];
  }
  let n = 0n;
  for (const c of s) {
    if (c === '_') continue;
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || d >= base) fail(`'${text}' is not an integer`);
    n = n * BigInt(base) + BigInt(d);
  }
  if (s === '' && base !== 8) fail(`'${text}' is not an integer`);
  if (text.includes('_') && !underscoresOk(text.slice(sign.length))) fail(`'${text}' is not an integer`);
  if (sign === '-') n = -n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  if (n > max || n < min) fail(`${text} is out of range (${min} to ${max})`);
  return Number(n);
}

/** Go's rule: an underscore only between digits, or between a base prefix and a digit. */
function underscoresOk(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1])) {
    i = 2;
    saw = '0';
  }
  for (; i < s.length; i++) {
    if (/[0-9a-fA-F]/.test(s[i])) saw = '0';
    else if (s[i] === '_') {
      if (saw !== '0') return false;
      saw = '_';
    } else saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseInt(s, 10, 64): what go-units reads ulimits with. */
export function decimalInt(text: string): number {
  if (!/^[+-]?[0-9]+$/.test(text)) fail(`'${text}' is not a decimal integer`);
  return goInt(text.replace(/^([+-]?)0+(?=\d)/, '$1'));
}

/** strconv.ParseBool. */
export function goBool(text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return fail(`'${text}' is not a boolean (true or false)`);
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** time.ParseDuration, in nanoseconds: `30s`, `1m5.5s`, `500ms`; `0` alone needs no unit. */
export function goDuration(text: string): number {
  const m = /^([+-]?)(.*)$/.exec(text)!;
  if (m[2] === '0') return 0;
  if (m[2] === '') fail(`'${text}' is not a duration (such as 30s, 1m30s, 500ms)`);
  let total = 0;
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  for (let rest = m[2]; rest !== '';) {
    const p = part.exec(rest);
    if (!p)
      fail(
        /^[\d.]+$/.test(rest)
          ? `'${text}' has a number without a unit (ns, us, ms, s, m, h)`
          : `'${text}' is not a duration (such as 30s, 1m30s, 500ms)`,
      );
    total += Number(p[1]) * DURATION_UNITS[p[2]];
    rest = rest.slice(p[0].length);
  }
  return Math.round(m[1] === '-' ? -total : total);
}

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes (as docker CLI 28 vendors it): `512m`, `1.5g`, `256MiB`, `64 kb`, plain bytes. */
export function ramInBytes(text: string): number {
  let sep = -1;
  for (let i = text.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(text[i])) {
      sep = i;
      break;
    }
  }
  if (sep === -1) fail(`'${text}' is not a size (such as 512m, 2g)`);
  const [num, suffix] = text[sep] === ' ' ? [text.slice(0, sep), text.slice(sep + 1)] : [text.slice(0, sep + 1), text.slice(sep + 1)];
  // strconv.ParseFloat: a decimal number, with an exponent.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) fail(`'${text}' is not a size (such as 512m, 2g)`);
  let size = Number(num);
  if (size < 0) fail(`'${text}' is not a size: it is negative`);
  const sfx = suffix.toLowerCase();
  if (sfx !== '') {
    const unit = BINARY[sfx[0]];
    const ok = sfx === 'b' || (unit !== undefined && (sfx.length === 1 || sfx.slice(1) === 'b' || sfx.slice(1) === 'ib'));
    if (!ok) fail(`'${text}' has an unknown unit '${suffix}' (b, k, m, g, t, p)`);
    if (unit !== undefined) size *= unit;
  }
  return Math.trunc(size);
}

/** opts.ParseCPUs: a decimal or a fraction of CPUs, in billionths, which must come out whole. */
export function nanoCpus(text: string): number {
  const fraction = /^([+-]?\d+)\/(\d+)$/.exec(text);
  const decimal = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  let num: bigint;
  let den: bigint;
  if (fraction && BigInt(fraction[2]) !== 0n) {
    [num, den] = [BigInt(fraction[1]), BigInt(fraction[2])];
  } else if (decimal && (decimal[2] !== '' || (decimal[3] ?? '') !== '')) {
    const frac = decimal[3] ?? '';
    const exp = Number(decimal[4] ?? '0') - frac.length;
    num = BigInt(`${decimal[1]}${decimal[2]}${frac}` || '0');
    den = 1n;
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den = 10n ** BigInt(-exp);
  } else {
    return fail(`'${text}' is not a number of CPUs (such as 1.5)`);
  }
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) fail(`'${text}' is too precise (at most 9 decimals)`);
  return Number(nano / den);
}

const ULIMITS = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

/** go-units ParseUlimit: `name=soft[:hard]`; the hard limit defaults to the soft one. */
export function ulimit(text: string): { Name: string; Hard: number; Soft: number } {
  const eq = text.indexOf('=');
  if (eq === -1) fail(`'${text}' is not a ulimit (name=soft[:hard])`);
  const name = text.slice(0, eq);
  if (!ULIMITS.has(name)) fail(`'${name}' is not a ulimit (one of ${[...ULIMITS].join(', ')})`);
  const [softText, hardText] = splitOnce(text.slice(eq + 1), ':');
  const soft = decimalInt(softText);
  const hard = hardText === undefined ? soft : decimalInt(hardText);
  if (hard !== -1 && (soft === -1 || soft > hard)) fail(`the soft limit ${soft} of '${text}' is above the hard one`);
  return { Name: name, Hard: hard, Soft: soft };
}

/** One record of encoding/csv (comma-separated, `"` quotes fields, `""` is a quote inside them). */
export function csvRecord(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      for (i++; ; i++) {
        if (i >= text.length) fail(`'${text}' has a quote that is not closed`);
        if (text[i] === '"' && text[i + 1] === '"') {
          field += '"';
          i++;
        } else if (text[i] === '"') {
          i++;
          break;
        } else field += text[i];
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\n') fail(`'${text}' has text after a closing quote`);
    } else {
      for (; i < text.length && text[i] !== ',' && text[i] !== '\n'; i++) {
        if (text[i] === '"') fail(`'${text}' has a quote inside a field that does not start with one`);
        field += text[i];
      }
    }
    fields.push(field.replace(/\r$/, ''));
    if (i >= text.length || text[i] === '\n') return fields;
    i++;
  }
}

/** `text` cut at the first `separator`; the second part is undefined when there is none. */
export function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at === -1 ? [text] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** Engine API versions compared as docker does: `1.44` >= `1.41`. */
export function apiAtLeast(version: string, wanted: string): boolean {
  const [a, b] = [version, wanted].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}
