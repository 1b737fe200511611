// The fence on a Docker engine, the same for every runtime whose build joins a holder container's
// network namespace (docker, host): the holder up, its rules loaded and read back equal, the
// resolver, the set feed and the denied-attempt reader in this process; after the build, the
// evidence; then everything down. The build itself is the runtime's.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { holderConfig, resourceNames, type ResourceNames } from './containers.js';
import { createContainer, startContainer } from './engine.js';
import { ensureHolderImage } from './holder-image.js';
import { HolderOutput, holderCommand } from './holder.js';
import { readKernelCounts } from './kernel-counts.js';
import type { RunGuard } from './run-guard.js';
import { containerAddresses } from './network.js';
import { findLeftovers, processAlive, removeLeftovers, removeRun } from './resources.js';
import { openSetFeed } from './set-feed.js';
import { openWireQueue } from './wire-queue.js';
import { hostPathOf, site, TEMP_FIX, whereabouts, type Whereabouts } from './site.js';
import type { SetFeed } from '../dns/feed.js';
import { Resolver } from '../dns/resolver.js';
import { resolverSettings } from '../dns/settings.js';
import { Forwarder, upstreamsFor } from '../dns/upstream.js';
import { WireDecisionLog } from '../wire/decision-log.js';
import type { WireQueue } from '../wire/queue.js';
import { namePolicy } from '../wire/policy.js';
import { DRAIN_MS, DeniedReader } from '../report/reader.js';
import { drainMark, pickMarkPort, type DrainMark } from '../report/drain-mark.js';
import type { RunFacts } from '../report/record.js';
import { ruleFileTexts, RULE_FILES } from '../firewall/rule-files.js';
import { verifyReadback } from '../firewall/verify.js';
import { checkedName, renderRuleset, staticMembers, WIRE_QUEUE, type Ruleset } from '../firewall/ruleset.js';
import { SCRIPT_NAME, scriptText } from '../run/build.js';
import type { RunIdentity } from '../run/identity.js';
import type { Log } from '../run/log.js';
import type { RunSpec } from '../run/spec.js';

/** What the build's runtime does while the fence comes up. */
export interface BuildSetup {
  /** Beside the holder image and the network: files the build needs besides its script (the fence writes that). */
  prepare(): Promise<void>;
  /** Once the fence knows where it runs (a job container or the runner), before anything of it exists: the build's configuration is read, and refused here. */
  check?(where: Whereabouts): Promise<void>;
  /** Beside the holder's start and rule load: the build is created (the holder's namespace exists by then). */
  create(): Promise<void>;
}

/** What the fence observed, for the run's result. */
export type FenceFacts = Pick<RunFacts, 'rules' | 'denied' | 'kernel' | 'dns' | 'namesOf' | 'wire'>;

export class EngineFence {
  readonly names: ResourceNames;
  /** The build's script, where every runtime's build sees it at SCRIPT_MOUNT; the holder puts the seccomp filter program beside it. */
  readonly scriptDir: string;
  /** The holder image's local ID, once it is present. */
  holderImageId = '';
  private rules?: Ruleset;
  private mark?: DrainMark;
  private forwarder?: Forwarder;
  private resolver?: Resolver;
  /** The name check's channel to the holder's packet queue program. */
  private queue?: WireQueue;
  /** The name check's refusals. */
  private readonly wireLog = new WireDecisionLog();
  private feed?: SetFeed;
  private reader?: DeniedReader;
  private teardown?: Promise<void>;

  constructor(
    private readonly spec: RunSpec,
    private readonly id: RunIdentity,
    /** The run's own directory on the runner, removed at teardown. */
    private readonly tmp: string,
    private readonly log: Log,
  ) {
    this.names = resourceNames(id.runId);
    this.scriptDir = path.join(tmp, 'script');
  }

  /** Raises the fence, with the build's set-up beside it; throws, and the build never starts, unless every part is up. */
  async up(guard: Pick<RunGuard, 'step' | 'fail'>, build: BuildSetup): Promise<void> {
    const { spec, id, log, names } = this;
    const step = guard.step;
    // Independent steps side by side; each one ends before the run goes on (or unwinds).
    const [, imageId, rulesDir, where] = await settled([
      sweep(id, log),
      step(() => ensureHolderImage(spec, log)),
      prepareDirs(this.tmp, this.scriptDir, spec),
      whereabouts(log),
      build.prepare(),
    ] as const);
    this.holderImageId = imageId;
    const { placement, services, networkNames } = await step(() => site(spec, where, imageId, id, names.hostView));
    await build.check?.(where);

    this.forwarder = new Forwarder(await upstreamsFor(spec));
    const resolver = new Resolver({
      ...resolverSettings(spec),
      forwarder: this.forwarder,
      onWarning: (m) => log.warning(m),
      onError: (err) => guard.fail(err),
      ...(networkNames ? { networkNames } : {}),
    });
    this.resolver = resolver;
    const listen = placement.listen;
    const port = await resolver.listen(listen);
    const markPort = pickMarkPort();
    // The name check: every TCP connection to an address only a name entry opened is read from
    // the holder's packet queue (the fast path) until its name is allowed.
    const checked = spec.allow.some(checkedName);
    const rules = renderRuleset({
      mode: spec.mode,
      // The allowlist's service containers, by their addresses on the network, beside the entries.
      allow: [...spec.allow, ...services],
      deny: spec.deny,
      // The Docker host (the network's gateways, every address the runner has) and this process's own addresses.
      gateways: placement.guarded,
      // On the default bridge, every plain container's network: the build must not reach them.
      guardedNetworks: placement.guardedNetworks,
      resolver: { address: listen, port },
      drainMark: { from: listen, port: markPort },
      ...(checked ? { wireQueue: WIRE_QUEUE } : {}),
    });
    this.rules = rules;
    await writeRuleFiles(rulesDir, rules);
    await step(() =>
      holderStep(spec.holderImage, () =>
        createContainer(
          names.holder,
          holderConfig({
            id,
            image: imageId,
            network: placement.network,
            rulesDir: hostPathOf(where, rulesDir, "buildfence's rules directory", TEMP_FIX),
            scriptDir: hostPathOf(where, this.scriptDir, "buildfence's script directory", TEMP_FIX),
            command: holderCommand(),
            fastPath: checked,
          }),
        ),
      ),
    );
    // Attached before it starts: the holder prints the read-back, then becomes the reader.
    const holder = await HolderOutput.attach(names.holder, spec.holderImage);
    const reader = (this.reader = DeniedReader.watch(holder.reader));
    // The build is only created here (it joins the holder's namespace, which exists now); it
    // starts once the rules are verified. The feed starts beside the rule load: it needs the
    // holder's namespace, not its rules.
    const [[clients]] = await settled([
      step(() => holderStep(spec.holderImage, () => startContainer(names.holder)))
        .catch((err: unknown) => {
          holder.reader.close();
          throw err;
        })
        .then(() =>
          settled([
            containerAddresses(names.holder),
            holder.loaded.then((readback) => verifyReadback(rules, readback)),
            reader.listening(),
            openSetFeed(names.holder).then((f) => (this.feed = f)),
            !checked
              ? Promise.resolve()
              : openWireQueue(names.holder, rulesDir, {
                  mode: spec.mode,
                  log: this.wireLog,
                  allows: namePolicy(spec.allow, spec.deny),
                  namesOf: (a) => resolver.namesOf.get(a)?.names.keys() ?? [],
                  onWarning: (m) => log.warning(m),
                }).then((q) => {
                  this.queue = q;
                  // Its packets are dropped from then on: the run cannot go on as fenced and checked.
                  void q.ended.then((reason) =>
                    guard.fail(new Error(`${reason}; connections to name entries' addresses could no longer be checked`)),
                  );
                }),
          ] as const),
        ),
      step(() => build.create()),
    ] as const);
    resolver.serve(clients, this.feed!, staticMembers(rules));
    const holder4 = clients.find((a) => !a.includes(':'));
    if (holder4) this.mark = drainMark(holder4, markPort, listen);
    log.info(
      `Grade ${spec.grade}, mode ${spec.mode}: ${spec.allow.length} allowlist entr${spec.allow.length === 1 ? 'y' : 'ies'}; ` +
        `rules loaded and verified in holder ${names.holder}; DNS answered by buildfence at ${listen}:${port}` +
        (checked ? `; names checked on the wire (netfilter queue ${WIRE_QUEUE}).` : '.'),
    );
  }

  /** Settles if the holder goes away during the run (its reader ends on its own): the evidence can no longer be complete. */
  get lost(): Promise<void> {
    return this.reader!.lost;
  }

  /** Once the build has ended: the kernel's counts, the reader read to the end-of-run mark, the resolver's log. */
  async evidence(): Promise<FenceFacts> {
    const { log, names } = this;
    // The kernel's counts first, then the mark: every entry they count is logged before the mark.
    const kernel = await readKernelCounts(names.holder).catch((err: Error) => {
      log.warning(`Cannot read the fence's counters in holder ${names.holder} (${err.message}): the totals are the log's.`);
      return undefined;
    });
    // The reader stops once the mark is through; the teardown then removes both containers.
    const denied = await this.reader!.stop(this.mark);
    if (this.mark && !this.reader!.markSeen) {
      log.info(
        `The end-of-run mark did not reach the holder (is the engine on another machine?): the reader waited ${DRAIN_MS} ms for the last denied attempts instead.`,
      );
    }
    for (const e of this.resolver!.unresolvedEntries()) {
      log.warning(`Allowlist entry '${e.text}' was never resolved during the build: is it still needed?`);
    }
    return {
      rules: this.rules!,
      denied,
      kernel,
      dns: this.resolver!.decisionLog(),
      namesOf: this.resolver!.namesOf,
      wire: this.wireLog.decisions(),
    };
  }

  /** Ends what runs in this process, removes the run's containers and its directory. Idempotent. */
  down(): Promise<void> {
    return (this.teardown ??= (async () => {
      this.queue?.close();
      this.feed?.close();
      await this.reader?.stop();
      await this.resolver?.close();
      this.forwarder?.close();
      const problems = await removeRun(this.id.runId);
      for (const p of problems) this.log.warning(`Teardown of run ${this.id.runId}: ${p}`);
      await fs.rm(this.tmp, { recursive: true, force: true });
    })());
  }
}

async function sweep(id: RunIdentity, log: Log): Promise<void> {
  const leftovers = await findLeftovers(id, processAlive);
  if (leftovers.length === 0) return;
  const runs = [...new Set(leftovers.map((l) => l.runId))];
  log.info(`Removing ${leftovers.length} resource(s) left by ended run(s) ${runs.join(', ')}.`);
  await removeLeftovers(leftovers);
}

/** The rules' directory (its path), and the script's with the script in it. */
async function prepareDirs(tmp: string, scriptDir: string, spec: RunSpec): Promise<string> {
  const rules = path.join(tmp, 'rules');
  await Promise.all([fs.mkdir(rules, { mode: 0o755 }), fs.mkdir(scriptDir)]);
  // The holder writes the seccomp filter program into it as root without CAP_DAC_OVERRIDE, so a
  // directory of a runner that is not root must let everyone write; the run's directory around it
  // (mkdtemp: 0700) keeps the runner's other users out, and the build sees it read-only.
  await fs.chmod(scriptDir, 0o777);
  await fs.writeFile(path.join(scriptDir, SCRIPT_NAME), scriptText(spec.run), { mode: 0o644 });
  return rules;
}

async function writeRuleFiles(dir: string, rules: Ruleset): Promise<void> {
  const texts = ruleFileTexts(rules);
  await Promise.all(
    (Object.keys(RULE_FILES) as Array<keyof typeof RULE_FILES>).map((k) =>
      fs.writeFile(path.join(dir, RULE_FILES[k]), texts[k], { mode: 0o644 }),
    ),
  );
}

async function holderStep(image: string, fn: () => Promise<unknown>): Promise<void> {
  await fn().catch((err: Error) => {
    throw new Error(`Cannot start the holder container from image ${image}: ${err.message}. The build was not started.`);
  });
}

/** Like Promise.all, but waits for every step to end before failing: nothing runs on unseen. */
export async function settled<T extends readonly unknown[]>(steps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
