import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AllowlistError, formatEntry, parseAllowlist, parseEntry } from '../../src/policy/allowlist.js';
import type { Entry } from '../../src/run/entry.js';
import { listInput } from '../../src/inputs.js';
import { parsePolicy } from '../../src/policy/policy.js';

const allowItems = (value: string) => listInput(value, { commas: true, comments: true });

const BOTH = ['tcp', 'udp'];
const v4 = (cidr: string, text: string, protocols = BOTH, ports?: [number, number]): Entry =>
  ({
    kind: 'address',
    family: 4,
    cidr,
    text,
    protocols,
    ...(ports ? { ports: { from: ports[0], to: ports[1] } } : {}),
  }) as Entry;
const v6 = (cidr: string, text: string, protocols = BOTH, ports?: [number, number]): Entry =>
  ({
    kind: 'address',
    family: 6,
    cidr,
    text,
    protocols,
    ...(ports ? { ports: { from: ports[0], to: ports[1] } } : {}),
  }) as Entry;
const name = (n: string, wildcard: boolean, text: string, protocols = BOTH, ports?: [number, number]): Entry =>
  ({
    kind: 'name',
    name: n,
    wildcard,
    text,
    protocols,
    ...(ports ? { ports: { from: ports[0], to: ports[1] } } : {}),
  }) as Entry;

describe('parseEntry accepts', () => {
  const cases: Array<[string, Entry]> = [
    // addresses and networks: every port, TCP and UDP
    ['203.0.113.7', v4('203.0.113.7/32', '203.0.113.7')],
    ['10.0.0.0/8', v4('10.0.0.0/8', '10.0.0.0/8')],
    ['0.0.0.0/0', v4('0.0.0.0/0', '0.0.0.0/0')],
    ['2001:db8::1', v6('2001:db8::1/128', '2001:db8::1')],
    ['2001:db8::/32', v6('2001:db8::/32', '2001:db8::/32')],
    ['2001:DB8:0:0:0:0:0:1', v6('2001:db8::1/128', '2001:DB8:0:0:0:0:0:1')],
    ['2001:db8:0:1:1:1:1:1', v6('2001:db8:0:1:1:1:1:1/128', '2001:db8:0:1:1:1:1:1')],
    ['::/0', v6('::/0', '::/0')],
    ['[::1]', v6('::1/128', '[::1]')],
    ['64:ff9b::1.2.3.4', v6('64:ff9b::102:304/128', '64:ff9b::1.2.3.4')],
    // without brackets an IPv6 address never carries a port
    ['2001:db8::1:443', v6('2001:db8::1:443/128', '2001:db8::1:443')],
    // a port or range: TCP only
    ['203.0.113.7:443', v4('203.0.113.7/32', '203.0.113.7:443', ['tcp'], [443, 443])],
    ['10.0.0.0/8:8000-8100', v4('10.0.0.0/8', '10.0.0.0/8:8000-8100', ['tcp'], [8000, 8100])],
    ['1.2.3.4:1-65535', v4('1.2.3.4/32', '1.2.3.4:1-65535', ['tcp'], [1, 65535])],
    ['1.2.3.4:80-80', v4('1.2.3.4/32', '1.2.3.4:80-80', ['tcp'], [80, 80])],
    ['[2001:db8::1]:443', v6('2001:db8::1/128', '[2001:db8::1]:443', ['tcp'], [443, 443])],
    ['[2001:db8::/32]:443', v6('2001:db8::/32', '[2001:db8::/32]:443', ['tcp'], [443, 443])],
    // a scheme names the protocol
    ['udp://203.0.113.7:5000', v4('203.0.113.7/32', 'udp://203.0.113.7:5000', ['udp'], [5000, 5000])],
    ['tcp://203.0.113.7:443', v4('203.0.113.7/32', 'tcp://203.0.113.7:443', ['tcp'], [443, 443])],
    ['udp://[2001:db8::1]:53', v6('2001:db8::1/128', 'udp://[2001:db8::1]:53', ['udp'], [53, 53])],
    ['tcp://10.0.0.0/8', v4('10.0.0.0/8', 'tcp://10.0.0.0/8', ['tcp'])],
    ['udp://2001:db8::/32', v6('2001:db8::/32', 'udp://2001:db8::/32', ['udp'])],
    ['TCP://1.2.3.4:22', v4('1.2.3.4/32', 'TCP://1.2.3.4:22', ['tcp'], [22, 22])],
    // names
    ['example.com', name('example.com', false, 'example.com')],
    ['Example.COM.', name('example.com', false, 'Example.COM.')],
    ['*.example.com', name('example.com', true, '*.example.com')],
    ['*.example.com.', name('example.com', true, '*.example.com.')],
    ['localhost', name('localhost', false, 'localhost')],
    ['_sip._tcp.example.com', name('_sip._tcp.example.com', false, '_sip._tcp.example.com')],
    ['xn--bcher-kva.example', name('xn--bcher-kva.example', false, 'xn--bcher-kva.example')],
    ['a1-b2.example.com', name('a1-b2.example.com', false, 'a1-b2.example.com')],
    ['example.com:443', name('example.com', false, 'example.com:443', ['tcp'], [443, 443])],
    ['udp://ntp.example.com:123', name('ntp.example.com', false, 'udp://ntp.example.com:123', ['udp'], [123, 123])],
    ['*.example.com:8000-8100', name('example.com', true, '*.example.com:8000-8100', ['tcp'], [8000, 8100])],
    ['tcp://example.com', name('example.com', false, 'tcp://example.com', ['tcp'])],
    [`${'a'.repeat(63)}.com`, name(`${'a'.repeat(63)}.com`, false, `${'a'.repeat(63)}.com`)],
    // 253 characters, the most a name may have
    [`${'abcdefghi.'.repeat(25)}com`, name(`${'abcdefghi.'.repeat(25)}com`, false, `${'abcdefghi.'.repeat(25)}com`)],
  ];
  for (const [text, expected] of cases) {
    it(text, () => assert.deepEqual(parseEntry(text), expected));
  }
});

describe('parseEntry refuses', () => {
  const cases: Array<[string, RegExp]> = [
    ['10.1.2.3/8', /host bits are set; did you mean 10\.0\.0\.0\/8\?/],
    ['2001:db8::1/32', /host bits are set; did you mean 2001:db8::\/32\?/],
    ['[2001:db8::1/32]:443', /did you mean 2001:db8::\/32\?/],
    ['::ffff:1.2.3.4', /IPv4-mapped .* write the IPv4 address 1\.2\.3\.4/],
    ['::ffff:102:304', /IPv4-mapped .* 1\.2\.3\.4/],
    ['[::ffff:1.2.3.4]:443', /IPv4-mapped/],
    ['::ffff:1.2.3.0/120', /IPv4-mapped .* 1\.2\.3\.0\/24/],
    ['fe80::1%eth0', /zone ids/],
    ['[fe80::1%eth0]:22', /zone ids/],
    ['10.0.0.0/33', /prefix length '\/33' must be a number from 0 to 32/],
    ['2001:db8::/129', /from 0 to 128/],
    ['10.0.0.0/08', /prefix length '\/08'/],
    ['10.0.0.0/+8', /prefix length/],
    ['10.0.0.0/', /prefix length '\/'/],
    ['10.0.0.0/8/8', /a path is not allowed/],
    ['10.1', /'10\.1' is not an IPv4 address; write four decimal numbers/],
    ['0x0a.0.0.1', /not an IPv4 address/],
    ['010.0.0.1', /not an IPv4 address/],
    ['1.2.3.256', /not an IPv4 address/],
    ['1.2.3.4.5', /not an IPv4 address/],
    ['4294967295', /not an IPv4 address/],
    ['64:ff9b::010.2.3.4', /not an IPv4 address in four decimal parts/],
    ['1.2.3.4:443:80', /not an IPv6 address .*needs brackets/],
    ['2001:db8::g', /not an IPv6 address/],
    ['[2001:db8::1]443', /unexpected '443' after '\]'/],
    ['[2001:db8::1', /no closing '\]'/],
    ['2001:db8::1]:443', /without an opening/],
    ['[1.2.3.4]:80', /brackets are only for IPv6/],
    ['[example.com]:443', /brackets are only for IPv6/],
    ['[]:443', /the host is empty/],
    ['1.2.3.4:0', /port 0 is not a port/],
    ['1.2.3.4:65536', /port 65536 is above 65535/],
    ['1.2.3.4:99999999999999999999', /above 65535/],
    ['1.2.3.4:9000-8000', /runs backwards; write 8000-9000/],
    ['1.2.3.4:http', /port 'http' is not a number/],
    ['1.2.3.4:+443', /port '\+443' is not a number/],
    ['1.2.3.4:-443', /not a port .* or a range/],
    ['1.2.3.4:1-2-3', /not a port .* or a range/],
    ['1.2.3.4:0443', /leading zero; write 443/],
    ['1.2.3.4:', /the port after ':' is empty/],
    [':443', /the host is empty/],
    ['tcp://', /the host is empty/],
    ['http://example.com', /unknown scheme 'http:\/\/'; only tcp:\/\/, udp:\/\/ and opaque:\/\//],
    ['icmp://1.2.3.4', /unknown scheme 'icmp:\/\/'/],
    ['://1.2.3.4', /needs a scheme/],
    ['example.com/x', /a path is not allowed/],
    ['tcp://example.com:443/', /a path is not allowed/],
    ['example.com?x=1', /a query or fragment/],
    ['a@b', /user info/],
    ['user@example.com:443', /user info/],
    ['a b', /whitespace inside an entry/],
    ['10.0.0.0/8\t:443', /whitespace inside an entry/],
    ['*.com', /a wildcard needs at least two labels after '\*\.'.*top-level domain/],
    ['*', /'\*' is allowed only as the whole leftmost label/],
    ['*.*.example.com', /only as the whole leftmost label/],
    ['a.*.example.com', /only as the whole leftmost label/],
    ['*example.com', /only as the whole leftmost label/],
    ['a..b', /empty label/],
    ['.example.com', /empty label/],
    ['example.com..', /empty label/],
    ['-a.com', /'-a' starts or ends with '-'/],
    ['a-.com', /starts or ends with '-'/],
    ['a!b.com', /may hold only letters, digits, '-' and '_'/],
    ['example.123', /last label is all digits/],
    [`${'a'.repeat(64)}.com`, /longer than 63 characters/],
    [`${'abcdefghi.'.repeat(26)}com`, /longer than 253 characters/],
    // attack-minded
    ['١.٢.٣.٤', /only ASCII .* U\+0661/],
    ['1.2.3.４', /U\+FF14/],
    ['bücher.example', /xn-- form/],
    ['exam\u200bple.com', /U\+200B/],
    ['1.2.3.4\u00a0', /whitespace/],
    ['', /the entry is empty/],
  ];
  for (const [text, pattern] of cases) {
    it(JSON.stringify(text), () => {
      assert.throws(
        () => parseEntry(text),
        (err: unknown) => {
          assert.ok(err instanceof AllowlistError);
          assert.match(err.message, pattern);
          return true;
        },
      );
    });
  }

  it('names the source, quotes the entry and lists the accepted forms', () => {
    assert.throws(() => parseEntry('10.1.2.3/8', "input 'allowlist'"), {
      name: 'AllowlistError',
      message:
        "Invalid entry '10.1.2.3/8' in input 'allowlist': host bits are set; did you mean 10.0.0.0/8? " +
        'Accepted forms: 203.0.113.7, 10.0.0.0/8, [2001:db8::1]:443, 10.0.0.0/8:8000-8100, ' +
        'udp://203.0.113.7:5000, example.com, *.example.com:443, opaque://git.example.com:22, preset:npm.',
    });
  });

  it('shows invisible characters in the message', () => {
    assert.throws(() => parseEntry('a\u202eb.com'), /Invalid entry 'a\\u\{202e\}b\.com'/);
  });
});

describe('parseAllowlist', () => {
  it('splits on newlines and commas, trims, skips blanks and comments', () => {
    const value = '# release hosts\n203.0.113.7:443, 10.0.0.0/8\r\n\n  example.com  # docs\n,,\n\t*.example.org\t\n';
    assert.deepEqual(
      parseAllowlist(allowItems(value), "input 'allowlist'").map((e) => e.text),
      ['203.0.113.7:443', '10.0.0.0/8', 'example.com', '*.example.org'],
    );
  });

  it('reads two entries on one line', () => {
    assert.deepEqual(parseAllowlist(allowItems('1.2.3.4:443,5.6.7.8'), '--allow'), [
      v4('1.2.3.4/32', '1.2.3.4:443', ['tcp'], [443, 443]),
      v4('5.6.7.8/32', '5.6.7.8'),
    ]);
  });

  it('trims a trailing tab', () => {
    assert.deepEqual(parseAllowlist(allowItems('10.0.0.0/8 \t'), '--allow'), [v4('10.0.0.0/8', '10.0.0.0/8')]);
  });

  it('returns nothing for an empty or comment-only value', () => {
    assert.deepEqual(parseAllowlist(allowItems(''), '--allow'), []);
    assert.deepEqual(parseAllowlist(allowItems(' \n# nothing, here\n , '), '--allow'), []);
  });

  it('keeps the first of identical entries', () => {
    const entries = parseAllowlist(
      allowItems('1.2.3.4, 1.2.3.4/32\ntcp://1.2.3.4:443, 1.2.3.4:443\nExample.com, example.com.\n*.example.com, example.com:443'),
      '--allow',
    );
    assert.deepEqual(
      entries.map((e) => e.text),
      ['1.2.3.4', 'tcp://1.2.3.4:443', 'Example.com', '*.example.com', 'example.com:443'],
    );
  });

  it('keeps entries that differ in protocol, port or wildcard', () => {
    const entries = parseAllowlist(
      allowItems('1.2.3.4, tcp://1.2.3.4, udp://1.2.3.4, 1.2.3.4:443, 1.2.3.4:444, example.com, *.example.com'),
      '--allow',
    );
    assert.equal(entries.length, 7);
  });

  it('reports one bad entry with the accepted forms', () => {
    assert.throws(() => parseAllowlist(allowItems('1.2.3.4\n10.1.2.3/8'), '--allow'), {
      message: /^Invalid entry '10\.1\.2\.3\/8' in --allow: host bits are set; did you mean 10\.0\.0\.0\/8\? Accepted forms: /,
    });
  });

  it('reports every bad entry together, one line each', () => {
    assert.throws(
      () => parseAllowlist(allowItems('10.1.2.3/8, 1.2.3.4\nhttp://x.com # comment\n*.com'), "input 'allowlist'"),
      (err: unknown) => {
        assert.ok(err instanceof AllowlistError);
        const lines = err.message.split('\n');
        assert.equal(lines.length, 5);
        assert.equal(lines[0], "3 invalid entries in input 'allowlist':");
        assert.match(lines[1], /^Invalid entry '10\.1\.2\.3\/8' in input 'allowlist': host bits/);
        assert.match(lines[2], /^Invalid entry 'http:\/\/x\.com' in input 'allowlist': unknown scheme/);
        assert.match(lines[3], /^Invalid entry '\*\.com' in input 'allowlist': a wildcard/);
        assert.match(lines[4], /^Accepted forms: /);
        return true;
      },
    );
  });

  it('treats # as a comment even inside an entry', () => {
    assert.deepEqual(
      parseAllowlist(allowItems('example.com#frag'), '--allow').map((e) => e.text),
      ['example.com'],
    );
  });
});

describe('formatEntry', () => {
  const cases: Array<[string, string]> = [
    ['203.0.113.7', '203.0.113.7/32'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['2001:db8::1', '2001:db8::1/128'],
    ['203.0.113.7:443', 'tcp://203.0.113.7/32:443'],
    ['10.0.0.0/8:8000-8100', 'tcp://10.0.0.0/8:8000-8100'],
    ['udp://[2001:db8::1]:53', 'udp://[2001:db8::1/128]:53'],
    ['tcp://2001:db8::/32', 'tcp://2001:db8::/32'],
    ['Example.com.', 'example.com'],
    ['*.example.com:443', 'tcp://*.example.com:443'],
    ['udp://ntp.example.com:123', 'udp://ntp.example.com:123'],
  ];
  for (const [text, formatted] of cases) {
    it(`${text} -> ${formatted}, and back`, () => {
      const entry = parseEntry(text);
      assert.equal(formatEntry(entry), formatted);
      assert.deepEqual({ ...parseEntry(formatted), text }, entry);
    });
  }

  it('writes both protocols on some ports as one entry per protocol', () => {
    const entry: Entry = {
      kind: 'address',
      family: 4,
      cidr: '1.2.3.4/32',
      text: 'x',
      protocols: ['udp', 'tcp'],
      ports: { from: 53, to: 53 },
    };
    assert.equal(formatEntry(entry), 'tcp://1.2.3.4/32:53, udp://1.2.3.4/32:53');
    assert.deepEqual(
      parseAllowlist(allowItems(formatEntry(entry)), '--allow').map((e) => e.protocols),
      [['tcp'], ['udp']],
    );
  });
});

describe('public suffixes', () => {
  const refused: Array<[string, string, string]> = [
    ['*.github.io', 'github.io', 'private'],
    ['*.s3.amazonaws.com', 's3.amazonaws.com', 'private'],
    ['*.cloudfront.net', 'cloudfront.net', 'private'],
    ['*.azurewebsites.net', 'azurewebsites.net', 'private'],
    ['*.pages.dev', 'pages.dev', 'private'],
    ['*.co.uk', 'co.uk', 'ICANN'],
    ['*.com.au:443', 'com.au', 'ICANN'],
    ['udp://*.foo.ck:53', 'foo.ck', 'ICANN'],
  ];
  for (const [text, suffix, section] of refused) {
    it(`refuses ${text}, naming the suffix and what to write instead`, () => {
      assert.throws(() => parseEntry(text, "input 'allowlist'"), {
        message: new RegExp(
          `^Invalid entry '${text.replace(/[.*]/g, '\\$&')}' in input 'allowlist': '${suffix.replace(/\./g, '\\.')}' is a public suffix \\(Public Suffix List, ${section} section\\): ` +
            `anyone can register a name under it, so '\\*\\.${suffix.replace(/\./g, '\\.')}' would open hosts an attacker can create; name the exact hosts instead, such as myname\\.${suffix.replace(/\./g, '\\.')}\\.`,
        ),
      });
    });
  }
  for (const text of [
    'mybucket.s3.amazonaws.com',
    'owner.github.io:443',
    '*.owner.github.io',
    '*.example.co.uk',
    '*.registry.test',
    'co.uk',
  ]) {
    it(`accepts ${text}`, () => assert.doesNotThrow(() => parseEntry(text)));
  }
  it('the policy file refuses them too, with the line', () => {
    assert.throws(() => parsePolicy('grades:\n  g:\n    allow: ["*.github.io"]\n', 'p.yml'), {
      message: /^p\.yml:3:13: grades\.g\.allow\[0\]: Invalid entry '\*\.github\.io': 'github\.io' is a public suffix/,
    });
  });
});
