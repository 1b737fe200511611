// The action's entries driven with a fake @actions/core and fake runtimes, as
// actions/typescript-action tests its entry: what main sets (outputs, state, annotations, the
// summary, failure) and what post removes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanupAction, runAction, type ActionCore, type ActionDeps } from '../../src/action.js';
import { renderRuleset } from '../../src/firewall/ruleset.js';
import { DeniedLog } from '../../src/report/evidence.js';
import type { EvidenceRecord, RunResult } from '../../src/report/record.js';
import type { RunHandle } from '../../src/run/identity.js';
import type { Log } from '../../src/run/log.js';
import type { RunSpec } from '../../src/run/spec.js';

class FakeCore implements ActionCore {
  outputs = new Map<string, string>();
  state = new Map<string, string>();
  warnings: string[] = [];
  failed: string[] = [];
  summaries: string[] = [];
  /** What was set, in order: `output NAME`, `warning`, `summary`, `failed`. */
  events: string[] = [];
  constructor(private readonly inputs: Record<string, string>) {}
  getInput(name: string): string {
    return this.inputs[name] ?? '';
  }
  setOutput(name: string, value: string): void {
    this.outputs.set(name, value);
    this.events.push(`output ${name}`);
  }
  warning(message: string): void {
    this.warnings.push(message);
    this.events.push('warning');
  }
  setFailed(message: string): void {
    this.failed.push(message);
    this.events.push('failed');
  }
  saveState(name: string, value: string): void {
    this.state.set(name, value);
  }
  getState(name: string): string {
    return this.state.get(name) ?? '';
  }
  async writeSummary(html: string): Promise<void> {
    this.summaries.push(html);
    this.events.push('summary');
  }
}

const silent: Log = {
  info: () => undefined,
  warning: () => undefined,
  debug: () => undefined,
  group: (_name, fn) => fn(),
  untrusted: (fn) => fn(() => undefined),
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-action-'));

function result(spec: RunSpec, over: Partial<RunResult> = {}): RunResult {
  const rules = renderRuleset({
    mode: spec.mode,
    allow: spec.allow,
    deny: spec.deny,
    gateways: [],
    resolver: { address: '172.17.0.1', port: 5300 },
  });
  return {
    runId: 'abcdef012345',
    runtime: 'docker',
    started: '2026-12-01T00:00:00.000Z',
    ended: '2026-12-01T00:00:01.000Z',
    exitCode: 0,
    images: { holder: { name: 'h', id: 'sha256:h' }, build: { name: 'b', id: 'sha256:b' } },
    rules,
    denied: [],
    dns: [],
    namesOf: new Map(),
    wire: [],
    ...over,
  };
}

function deps(core: FakeCore, run: ActionDeps['run'], cleanup: ActionDeps['cleanup'] = async () => []): ActionDeps {
  return { core, log: silent, run, cleanup, env: { GITHUB_WORKSPACE: tmp, RUNNER_TEMP: tmp } };
}

describe('runAction', () => {
  it('saves the run for post before anything is created, then sets the outputs, the report and the summary', async () => {
    const core = new FakeCore({ run: 'make', grade: 'release', allowlist: '192.0.2.10:443' });
    let stateAtStart: string | undefined;
    await runAction(
      deps(core, async (spec, _log, hooks) => {
        hooks?.onStart?.({ runId: 'abcdef012345', runtime: 'docker' });
        stateAtStart = core.getState('run-id');
        return result(spec, {
          denied: DeniedLog.of([{ time: 1, enforced: true, family: 4, protocol: 'tcp', address: '192.0.2.99', port: 9090 }]).tallies(),
        });
      }),
    );
    assert.equal(stateAtStart, 'abcdef012345');
    assert.equal(core.getState('runtime'), 'docker');
    assert.equal(core.outputs.get('exit-code'), '0');
    assert.equal(core.outputs.get('denied'), '1');
    const report = core.outputs.get('report')!;
    assert.equal(report, path.join(tmp, 'buildfence-report-abcdef012345.json'));
    const record = JSON.parse(fs.readFileSync(report, 'utf8')) as EvidenceRecord;
    assert.equal(record.grade, 'release');
    assert.deepEqual(record.allowlist, ['tcp://192.0.2.10/32:443']);
    assert.deepEqual(core.warnings, ['buildfence denied tcp 192.0.2.99:9090, 1 time(s).']);
    assert.equal(core.summaries.length, 1);
    assert.match(core.summaries[0], /buildfence: grade release, block mode/);
    assert.deepEqual(core.failed, []);
  });

  it('fails the step with the exit code when the build fails', async () => {
    const core = new FakeCore({ run: 'exit 3' });
    await runAction(deps(core, async (spec) => result(spec, { exitCode: 3 })));
    assert.equal(core.outputs.get('exit-code'), '3');
    assert.deepEqual(core.failed, ['The build exited with code 3.']);
  });

  it('a run that buildfence itself failed: the report, outputs, annotations and summary with what was recorded, then the step fails with why', async () => {
    const core = new FakeCore({ run: 'make', grade: 'release' });
    const failure =
      'buildfence failed in its own process: <b>boom</b>. The build was stopped and the evidence recorded until then is kept.';
    await runAction(
      deps(core, async (spec) =>
        result(spec, {
          exitCode: 137,
          failure,
          denied: DeniedLog.of([{ time: 1, enforced: true, family: 4, protocol: 'tcp', address: '192.0.2.99', port: 9090 }]).tallies(),
        }),
      ),
    );
    assert.deepEqual(core.events, ['output exit-code', 'output denied', 'output report', 'warning', 'summary', 'failed']);
    const record = JSON.parse(fs.readFileSync(core.outputs.get('report')!, 'utf8')) as EvidenceRecord;
    assert.equal(record.failure, failure);
    assert.equal(record.deniedTotal, 1);
    // The fault's message is shown as every name is: it may hold anything.
    const shown =
      'buildfence failed in its own process: \\060b\\062boom\\060/b\\062. The build was stopped and the evidence recorded until then is kept.';
    assert.ok(core.summaries[0].includes(`<p><strong>${shown}</strong></p>`), core.summaries[0]);
    assert.deepEqual(core.failed, [`${shown} The build exited with code 137.`]);
  });

  it('fails a passing build with fail-on-denied when anything was denied', async () => {
    const core = new FakeCore({ run: 'make', grade: 'release', 'fail-on-denied': 'true' });
    await runAction(
      deps(core, async (spec) =>
        result(spec, {
          denied: DeniedLog.of([{ time: 1, enforced: true, family: 6, protocol: 'udp', address: '2001:db8::9', port: 53 }]).tallies(),
        }),
      ),
    );
    assert.equal(core.failed.length, 1);
    assert.match(core.failed[0], /^fail-on-denied is set and 1 attempt\(s\) were denied: udp \[2001:db8::9\]:53/);
  });

  it('an invalid input rejects before any runtime is called, naming the input', async () => {
    const core = new FakeCore({ run: 'make', mode: 'strict' });
    let called = false;
    await assert.rejects(
      runAction(
        deps(core, async (spec) => {
          called = true;
          return result(spec);
        }),
      ),
      /Input 'mode' has invalid value 'strict'/,
    );
    assert.equal(called, false);
    assert.equal(core.state.size, 0);
  });
});

describe('cleanupAction', () => {
  it('does nothing when main never saved a run', async () => {
    const core = new FakeCore({});
    let called = false;
    await cleanupAction(
      deps(
        core,
        async () => assert.fail('not run'),
        async () => {
          called = true;
          return [];
        },
      ),
    );
    assert.equal(called, false);
  });

  it('removes the saved run, on its runtime, and warns about what it could not remove', async () => {
    const core = new FakeCore({});
    core.saveState('run-id', 'abcdef012345');
    core.saveState('runtime', 'kubernetes');
    core.saveState('namespace', 'ci');
    const seen: RunHandle[] = [];
    await cleanupAction(
      deps(
        core,
        async () => assert.fail('not run'),
        async (run) => {
          seen.push(run);
          return ['Pod ci/buildfence-abcdef012345: forbidden'];
        },
      ),
    );
    assert.deepEqual(seen, [{ runId: 'abcdef012345', runtime: 'kubernetes', namespace: 'ci' }]);
    assert.deepEqual(core.warnings, ['buildfence cleanup: Pod ci/buildfence-abcdef012345: forbidden']);
    assert.deepEqual(core.failed, []);
  });

  it('ignores a saved run id that is not one of ours', async () => {
    const core = new FakeCore({});
    core.saveState('run-id', '../../etc');
    await cleanupAction(
      deps(
        core,
        async () => assert.fail('not run'),
        async () => assert.fail('not cleaned'),
      ),
    );
  });
});
