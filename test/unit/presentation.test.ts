// presented() and shown(): how every string the build chose reaches people (issue 12, hole 5).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { presented } from '../../src/dns/presentation.js';
import { renderRuleset } from '../../src/firewall/ruleset.js';
import { DeniedLog } from '../../src/report/evidence.js';
import { buildRecord } from '../../src/report/record.js';
import { SHOWN_LENGTH, annotations, renderSummary, shown, textSummary } from '../../src/report/summary.js';
import type { RunSpec } from '../../src/run/spec.js';

/** The bytes presented() text stands for. */
const bytesOf = (p: string) =>
  Buffer.from(
    p.replace(/\\(\d{3})/g, (_, d: string) => String.fromCharCode(Number(d))),
    'latin1',
  );
const SAFE = /^[A-Za-z0-9\-._:/*[\]@\\]*$/;

describe('presented', () => {
  const cases: Array<[string, string]> = [
    ['registry.npmjs.org', 'registry.npmjs.org'],
    ['*.evil.test', '*.evil.test'],
    ['_http._tcp.example.com', '_http._tcp.example.com'],
    ['2001:db8::1', '2001:db8::1'],
    ['[2001:db8::1]:443', '[2001:db8::1]:443'],
    ['ubuntu@sha256:ab', 'ubuntu@sha256:ab'],
    ['a b', 'a\\032b'],
    ['x\n\n# all clear', 'x\\010\\010\\035\\032all\\032clear'],
    ['<img src=x>', '\\060img\\032src\\061x\\062'],
    ['`code`|cell', '\\096code\\096\\124cell'],
    ['back\\slash', 'back\\092slash'],
    ['&amp;', '\\038amp\\059'],
    ['é', '\\195\\169'],
    ['\u001b[2J', '\\027[2J'],
    ['\u0000', '\\000'],
    ['\ufffd', '\\239\\191\\189'],
  ];
  for (const [text, expected] of cases) it(JSON.stringify(text), () => assert.equal(presented(text), expected));

  it('leaves only letters, digits, -._:/*[]@ and escapes, and stands for exactly the bytes it was given', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const p = presented(text);
        assert.match(p, SAFE);
        assert.deepEqual(bytesOf(p), Buffer.from(text, 'utf8'));
      }),
      { numRuns: 2000 },
    );
  });

  it('shown() cuts long strings at an escape boundary and says how many bytes it left out', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (text) => {
        const s = shown(text);
        const p = presented(text);
        if (p.length <= SHOWN_LENGTH) return assert.equal(s, p);
        const m = /^(.*)\.\.\.\((\d+) more bytes\)$/.exec(s);
        assert.ok(m, s);
        assert.ok(m[1].length <= SHOWN_LENGTH && p.startsWith(m[1]));
        assert.equal(bytesOf(m[1]).length + Number(m[2]), Buffer.byteLength(text));
      }),
      { numRuns: 500 },
    );
  });
});

const spec = {
  grade: 'release',
  mode: 'audit',
  allow: [],
  deny: [],
  failOnDenied: false,
  image: 'ubuntu:24.04',
  holderImage: 'buildfence/holder:0.1.0',
} as unknown as RunSpec;

describe('the summary, whatever names the build chose', () => {
  it('renders exactly the headings and elements buildfence writes, and annotations and CLI lines stay one line each', () => {
    const rules = renderRuleset({ mode: 'audit', allow: [], deny: [], gateways: [], resolver: { address: '172.18.0.1', port: 1 } });
    const md = new MarkdownIt({ html: true });
    const anyText = fc.string({ unit: 'binary', minLength: 1, maxLength: 80 });
    fc.assert(
      fc.property(fc.array(anyText, { minLength: 1, maxLength: 4 }), anyText, (names, refused) => {
        const record = buildRecord(
          spec,
          {
            runId: '0123456789ab',
            started: '2026-11-27T10:00:00.000Z',
            ended: '2026-11-27T10:01:00.000Z',
            exitCode: 0,
            images: { holder: { name: 'h', id: 'sha256:aa' }, build: { name: 'b', id: 'sha256:bb' } },
            rules,
            denied: DeniedLog.of([{ time: 1, enforced: false, family: 4, protocol: 'tcp', address: '192.0.2.9', port: 443 }]).tallies(),
            dns: [{ name: refused, type: 'A', verdict: 'refused', forwarded: true, addresses: [], count: 1, first: 't', last: 't' }],
            namesOf: new Map([['192.0.2.9', { names: new Map(names.map((n) => [n, 0])), total: names.length }]]),
          },
          { version: '0.1.0' },
        );
        const html = md.render(renderSummary(record));
        const headings = [...html.matchAll(/<h([1-6])>(.*?)<\/h\1>/g)].map((m) => m[2]);
        assert.deepEqual(headings, [
          'buildfence: grade release, audit mode',
          'Connections block mode would refuse',
          'Names outside the allowlist (forwarded, would be refused in block mode)',
          'Suggested grade',
        ]);
        const tags = new Set([...html.matchAll(/<([a-z0-9]+)[\s>]/g)].map((m) => m[1]));
        assert.deepEqual([...tags].sort(), ['b', 'code', 'h2', 'h3', 'p', 'pre', 'table', 'td', 'th', 'tr']);
        for (const line of [...annotations(record), ...textSummary(record).trimEnd().split('\n')]) assert.match(line, /^[\x20-\x7e]+$/);
      }),
      { numRuns: 300 },
    );
  });
});
