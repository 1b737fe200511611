// The attestation (statement and subjects) and `buildfence verify`: every check passes on a
// faithful record and fails when the field it checks changes by one byte; every bad input is a
// plain message with exit 2, never a pass.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { listInput } from '../../src/inputs.js';
import { parseAllowlist, parseEntry } from '../../src/policy/allowlist.js';
import { covers } from '../../src/policy/coverage.js';
import { renderRuleset } from '../../src/firewall/ruleset.js';
import { githubRun } from '../../src/report/github-run.js';
import { buildRecord, type EvidenceRecord } from '../../src/report/record.js';
import { buildStatement, PREDICATE_TYPE } from '../../src/report/statement.js';
import { hashSubjects } from '../../src/report/subjects.js';
import { sha256Text } from '../../src/run/digest.js';
import type { RunSpec } from '../../src/run/spec.js';
import { verify } from '../../src/verify/verify.js';

const root = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-attest-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const POLICY = [
  'grades:',
  '  release:',
  '    mode: block',
  '    allow: ["registry.test:443", "10.20.0.0/16", "*.cdn.test:443"]',
  '    deny: ["10.20.9.9"]',
  '  narrow:',
  '    mode: block',
  '    allow: ["registry.test:443"]',
  '',
].join('\n');
fs.writeFileSync(path.join(dir, 'policy.yml'), POLICY);
fs.writeFileSync(path.join(dir, 'app.tar'), 'the artifact\n');

const allow = (text: string) => parseAllowlist(listInput(text, { commas: true }), 'test');

function record(over: Partial<EvidenceRecord> = {}): EvidenceRecord {
  const spec = {
    via: 'cli',
    grade: 'release',
    policyFile: { path: 'policy.yml', sha256: sha256Text(POLICY) },
    mode: 'block',
    allow: allow('registry.test:443, 10.20.1.0/24, a.cdn.test:443'),
    deny: allow('10.20.9.9'),
    image: 'ubuntu:24.04',
    holderImage: 'buildfence/holder:0.1.0',
    subjectPaths: ['app.tar'],
  } as unknown as RunSpec;
  const rules = renderRuleset({
    mode: 'block',
    allow: spec.allow,
    deny: spec.deny,
    gateways: ['172.17.0.1'],
    resolver: { address: '172.17.0.1', port: 5300 },
  });
  const base = buildRecord(
    spec,
    {
      runId: '0123456789ab',
      started: '2026-12-01T10:00:00.000Z',
      ended: '2026-12-01T10:01:00.000Z',
      exitCode: 0,
      images: {
        holder: { name: 'buildfence/holder:0.1.0', id: 'sha256:aa', repoDigests: [] },
        build: { name: 'ubuntu:24.04', id: 'sha256:bb', repoDigests: [] },
      },
      rules,
      denied: [],
      dns: [],
      namesOf: new Map(),
    },
    {
      version: '0.1.0',
      github: githubRun({ GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42', GITHUB_SHA: 'abc', RUNNER_OS: 'Linux' }),
    },
  );
  return { ...base, ...over };
}

let n = 0;
function file(value: unknown): string {
  const name = `evidence-${n++}.json`;
  fs.writeFileSync(path.join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));
  return name;
}

async function check(evidence: unknown, opts: { grade?: string; subjects?: string[]; allowDenied?: boolean; policy?: string } = {}) {
  return verify({
    evidence: file(evidence),
    policy: opts.policy ?? 'policy.yml',
    grade: opts.grade ?? 'release',
    subjects: opts.subjects ?? [],
    allowDenied: opts.allowDenied ?? false,
    dir,
    label: (name) => `--${name}`,
  });
}

const statement = async (r: EvidenceRecord = record()) =>
  buildStatement(r, await hashSubjects({ subjectPaths: ['app.tar'], workspace: dir, via: 'cli' }));

function failed(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('FAIL '))
    .map((l) => l.split(/\s+/)[1]);
}

describe('the statement', () => {
  it('names each subject with its sha256, and carries the record as its predicate; both validate against schema/', async () => {
    const s = await statement();
    assert.deepEqual(s.subject, [{ name: 'app.tar', digest: { sha256: sha256Text('the artifact\n') } }]);
    assert.equal(s.predicateType, PREDICATE_TYPE);
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    const load = (f: string) => JSON.parse(fs.readFileSync(path.join(root, 'schema', f), 'utf8')) as object;
    ajv.addSchema(load('buildfence-report.schema.json'));
    assert.ok(ajv.validate(load('buildfence-statement.schema.json'), s), JSON.stringify(ajv.errors));
    assert.deepEqual(s.predicate.github, { repository: 'o/r', runId: '42', sha: 'abc', runnerOs: 'Linux' });
    assert.deepEqual(s.predicate.policy, { path: 'policy.yml', sha256: sha256Text(POLICY) });
    assert.deepEqual(s.predicate.buildfence, { version: '0.1.0' });
  });

  it('refuses a subject that is missing or not a file, naming the input', async () => {
    await assert.rejects(hashSubjects({ subjectPaths: ['nope.tar', '.'], workspace: dir, via: 'action' }), (err: Error) => {
      assert.match(
        err.message,
        /^Input 'subject-path' names what the build did not leave in the workspace: 'nope.tar' .* does not exist; '\.' .* is not a regular file/,
      );
      return true;
    });
  });

  it('githubRun is absent outside GitHub Actions', () => assert.equal(githubRun({ GITHUB_REPOSITORY: 'o/r' }), undefined));
});

describe('buildfence verify: each check', () => {
  it('passes a faithful statement with its artifact', async () => {
    const out = await check(await statement(), { subjects: ['app.tar'] });
    assert.equal(out.exitCode, 0, out.text);
    assert.deepEqual(
      out.checks.map((c) => c.name),
      ['grade', 'mode', 'policy', 'allowlist', 'deny', 'rules', 'exit code', 'denied', 'subject'],
    );
    assert.match(out.text, /^verdict: pass \(9 checks\)$/m);
  });

  const cases: Array<[string, (r: EvidenceRecord) => EvidenceRecord, string]> = [
    ['grade', (r) => ({ ...r, grade: 'releasf' }), 'grade'],
    ['mode', (r) => ({ ...r, mode: 'audit' }), 'mode'],
    [
      'policy digest',
      (r) => ({ ...r, policy: { ...r.policy!, sha256: r.policy!.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')) } }),
      'policy',
    ],
    ['no policy file', (r) => ({ ...r, policy: undefined }), 'policy'],
    ['an entry beyond the grade', (r) => ({ ...r, allowlist: [...r.allowlist, 'tcp://registry.tesu:443'] }), 'allowlist'],
    ['a wider network', (r) => ({ ...r, allowlist: r.allowlist.map((e) => e.replace('10.20.1.0/24', '10.20.0.0/15')) }), 'allowlist'],
    [
      'another port',
      (r) => ({ ...r, allowlist: r.allowlist.map((e) => e.replace('registry.test:443', 'registry.test:444')) }),
      'allowlist',
    ],
    ['a deny entry dropped', (r) => ({ ...r, deny: [] }), 'deny'],
    [
      'the rules altered',
      (r) => ({ ...r, rules: { ...r.rules, iptables: r.rules.iptables.replace('-j BF-REJECT', '-j ACCEPT') } }),
      'rules',
    ],
    ['a failed build', (r) => ({ ...r, exitCode: 1 }), 'exit code'],
    ['a denied attempt', (r) => ({ ...r, deniedTotal: 1 }), 'denied'],
    [
      'a refused name',
      (r) => ({
        ...r,
        dns: [
          {
            name: 'evil.test',
            type: 'A',
            verdict: 'refused',
            forwarded: false,
            addresses: [],
            count: 1,
            first: r.started,
            last: r.started,
          },
        ],
      }),
      'denied',
    ],
  ];
  for (const [what, change, name] of cases) {
    it(`fails ${name} on ${what}`, async () => {
      const out = await check(await statement(change(record())));
      assert.equal(out.exitCode, 1, out.text);
      assert.deepEqual(failed(out.text), [name === 'exit code' ? 'exit' : name], out.text);
    });
  }

  it('names the entry beyond the grade', async () => {
    const out = await check(record({ allowlist: [...record().allowlist, 'tcp://registry.tesu:443'] }));
    assert.match(out.text, /^FAIL {2}allowlist {2}allowlist: beyond grade release: tcp:\/\/registry\.tesu:443$/m);
  });

  it('fails against a narrower grade of the same file', async () => {
    const out = await check(await statement(), { grade: 'narrow' });
    assert.deepEqual(failed(out.text), ['grade', 'allowlist']);
  });

  it('--allow-denied accepts refused attempts', async () => {
    const out = await check(record({ deniedTotal: 3 }), { allowDenied: true });
    assert.equal(out.exitCode, 0, out.text);
    assert.match(out.text, /accepted: --allow-denied/);
  });

  it('fails an artifact changed by one byte, and a plain record asked for an artifact', async () => {
    const s = await statement();
    fs.writeFileSync(path.join(dir, 'changed.tar'), 'the artifacu\n');
    assert.deepEqual(failed((await check(s, { subjects: ['changed.tar'] })).text), ['subject']);
    const plain = await check(record(), { subjects: ['app.tar'] });
    assert.match(plain.text, /^FAIL {2}subject {4}subject: a plain record names no artifact/m);
  });

  it('reads a DSSE envelope and a Sigstore bundle (one per line, as gh attestation download writes them)', async () => {
    const s = await statement();
    const envelope = {
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(JSON.stringify(s)).toString('base64'),
      signatures: [],
    };
    assert.equal((await check(envelope, { subjects: ['app.tar'] })).exitCode, 0);
    const bundle = { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', dsseEnvelope: envelope, verificationMaterial: {} };
    const out = await check(`${JSON.stringify(bundle)}\n`, { subjects: ['app.tar'] });
    assert.equal(out.exitCode, 0, out.text);
    assert.match(out.text, /^buildfence verify: Sigstore bundle /);
  });

  it("picks buildfence's attestation among the others gh attestation download writes for the artifact", async () => {
    const s = await statement();
    const bundle = (statement: object) => ({
      dsseEnvelope: { payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify(statement)).toString('base64') },
    });
    const provenance = { ...s, predicateType: 'https://slsa.dev/provenance/v1', predicate: {} };
    const out = await check(`${JSON.stringify(bundle(provenance))}\n${JSON.stringify(bundle(s))}\n`, { subjects: ['app.tar'] });
    assert.equal(out.exitCode, 0, out.text);
    const none = await check(`${JSON.stringify(bundle(provenance))}\n${JSON.stringify(bundle(provenance))}\n`);
    assert.equal(none.exitCode, 2);
    assert.match(none.text, /holds 2 attestations, none of them buildfence's/);
  });
});

describe('buildfence verify: bad input is exit 2 with a plain reason', () => {
  const bad: Array<[string, () => unknown, RegExp]> = [
    ['truncated', async () => JSON.stringify(await statement()).slice(0, 200), /is not JSON \(.*\); is it truncated\?/],
    ['not JSON', () => 'hello', /is not JSON/],
    ['empty', () => '', /is empty/],
    ['a JSON array', () => [], /not an object/],
    [
      'another format version',
      () => ({ ...record(), format: 'buildfence-report/0' }),
      /has format 'buildfence-report\/0'; this buildfence reads buildfence-report\/2/,
    ],
    [
      'another predicate type',
      async () => ({ ...(await statement()), predicateType: 'https://slsa.dev/provenance/v1' }),
      /a statement of another kind \(predicateType 'https:\/\/slsa\.dev\/provenance\/v1'\)/,
    ],
    [
      'a record missing a field',
      () => ({ ...record(), rules: undefined }),
      /does not match schema\/buildfence-report\.schema\.json: \/ must have required property 'rules'/,
    ],
    [
      'an envelope of something else',
      () => ({ payloadType: 'text/plain', payload: 'eA==' }),
      /carries 'text\/plain', not an in-toto statement/,
    ],
    ['two bundles', () => `{"a":1}\n{"b":2}\n`, /holds 2 buildfence attestations \(lines 1, 2\)/],
  ];
  for (const [what, make, message] of bad) {
    it(what, async () => {
      const out = await check(await make());
      assert.equal(out.exitCode, 2, out.text);
      assert.match(out.text, message);
      assert.doesNotMatch(out.text, /\bat \S+:\d+:\d+/, 'no stack trace');
    });
  }

  it('a missing file, an unknown grade, a policy with problems, a missing subject', async () => {
    const s = file(await statement());
    const run = (over: Partial<Parameters<typeof verify>[0]>) =>
      verify({
        evidence: s,
        policy: 'policy.yml',
        grade: 'release',
        subjects: [],
        allowDenied: false,
        dir,
        label: (x) => `--${x}`,
        ...over,
      });
    assert.match(
      (await run({ evidence: 'gone.json' })).text,
      /cannot check: the evidence 'gone.json' cannot be read: ENOENT|--evidence 'gone.json' cannot be read: ENOENT/,
    );
    assert.match((await run({ grade: 'nightly' })).text, /--grade has unknown grade 'nightly'/);
    fs.writeFileSync(path.join(dir, 'bad.yml'), 'grades:\n  release:\n    mode: blok\n');
    assert.match((await run({ policy: 'bad.yml' })).text, /bad\.yml:3:11: grades\.release\.mode: expected one of 'block', 'audit'/);
    assert.match((await run({ subjects: ['none.tar'] })).text, /--subject 'none.tar' is not a file/);
    for (const over of [{ evidence: 'gone.json' }, { grade: 'nightly' }, { policy: 'bad.yml' }])
      assert.equal((await run(over)).exitCode, 2);
  });
});

describe('covers', () => {
  const e = (text: string) => parseEntry(text);
  const yes: Array<[string, string]> = [
    ['10.0.0.0/8', '10.1.2.0/24:443'],
    ['10.0.0.0/8', 'udp://10.0.0.1'],
    ['*.example.com:443', 'a.b.example.com:443'],
    ['*.example.com', '*.a.example.com:443'],
    ['example.com', 'example.com:443'],
    ['10.0.0.0/8:8000-9000', '10.0.0.1:8080'],
  ];
  const no: Array<[string, string]> = [
    ['10.0.0.0/8', '11.0.0.0/8'],
    ['10.1.0.0/16', '10.0.0.0/8'],
    ['*.example.com', 'example.com'],
    ['example.com', '*.example.com'],
    ['example.com:443', 'example.com'],
    ['tcp://example.com', 'udp://example.com:53'],
    ['10.0.0.0/8:8000-9000', '10.0.0.1:8000-9001'],
    ['10.0.0.0/8', 'example.com'],
    ['2001:db8::/32', '10.0.0.1'],
  ];
  for (const [wide, narrow] of yes) it(`${wide} covers ${narrow}`, () => assert.equal(covers(e(wide), e(narrow)), true));
  for (const [wide, narrow] of no) it(`${wide} does not cover ${narrow}`, () => assert.equal(covers(e(wide), e(narrow)), false));
});
