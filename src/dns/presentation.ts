// How a string the build chose (a name it queried, an address it tried) is shown to people: in
// the job summary, annotations, the step's messages and the CLI's lines. Pure.
//
// DNS presentation format's escape (RFC 1035 5.1, as dig prints names): every byte of the UTF-8
// text that is not a letter, a digit or one of `-._:/*[]@` is written `\DDD`, its value in three
// decimal digits. What is left cannot end a line, a table cell, a code span or an HTML element,
// cannot open markup, and sends no control sequence to a terminal: a name holding blank lines,
// Markdown or HTML shows as one inert word. Names, addresses, entries and image references keep
// their usual look (wildcards, service labels, IPv6 and digests are written with those characters).

const LITERAL = /^[A-Za-z0-9\-._:/*[\]@]*$/;

export function presented(text: string): string {
  if (LITERAL.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && LITERAL.test(c) ? c : `\\${String(byte).padStart(3, '0')}`;
  }
  return out;
}
