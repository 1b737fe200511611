// The Docker runtime: up, seal, verify, run, down. The holder and the build are containers; the
// resolver, the set feed and the denied-attempt reader run in this process.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCreateArgs, holderConfig, resourceNames, type ResourceNames } from './containers.js';
import { buildRequest, checkFenced, createBuild, type BuildRequest } from './build-container.js';
import {
  attach,
  createContainer,
  inspectContainer,
  inspectImage,
  inspectVolume,
  killContainer,
  ping,
  startContainer,
  waitExit,
} from './engine.js';
import { hostRealPath } from './host-path.js';
import { checkNamedVolumes, namedVolumes } from './options-guard.js';
import { ensureHolderImage } from './holder-image.js';
import { jobContainerHint } from './job-container.js';
import { containerAddresses } from './network.js';
import { buildPaths, hostPathOf, site, TEMP_FIX, whereabouts } from './site.js';
import { openSetFeed } from './set-feed.js';
import type { SetFeed } from '../dns/feed.js';
import { Resolver } from '../dns/resolver.js';
import { Checker, CHECKER_PORTS } from '../wire/checker.js';
import { DestinationBook } from '../wire/destinations.js';
import { namePolicy } from '../wire/policy.js';
import { resolverSettings } from '../dns/settings.js';
import { DRAIN_MS, DeniedReader } from '../report/reader.js';
import { drainMark, pickMarkPort, type DrainMark } from '../report/drain-mark.js';
import type { ImageRef, RunResult } from '../report/record.js';
import { Forwarder, upstreamsFor } from '../dns/upstream.js';
import { findLeftovers, processAlive, removeLeftovers, removeRun } from './resources.js';
import { ruleFileTexts, RULE_FILES } from '../firewall/rule-files.js';
import { verifyReadback } from '../firewall/verify.js';
import { HolderOutput, holderCommand } from './holder.js';
import { readKernelCounts } from './kernel-counts.js';
import { checkedName, guardedBy, renderRuleset, staticMembers, type Ruleset } from '../firewall/ruleset.js';
import { runnerEnvNames, SCRIPT_NAME, scriptText } from '../run/build.js';
import { newRunId, type RunHandle, type RunHooks, type RunIdentity } from '../run/identity.js';
import type { Log } from '../run/log.js';
import { CANCEL_DEADLINE_MS, onCancel } from '../run/cancel.js';
import { onFault } from '../run/fault.js';
import { inputLabel, type RunSpec } from '../run/spec.js';

export async function runDocker(spec: RunSpec, log: Log, hooks: RunHooks = {}): Promise<RunResult> {
  await ping().catch((err: Error) => {
    throw new Error(`${err.message}${jobContainerHint(process.env)}`, { cause: err });
  });
  await checkVolumes(namedVolumes(spec.dockerOptions), inputLabel(spec.via, 'docker-options'));
  const id: RunIdentity = { runId: newRunId(), pid: process.pid, host: os.hostname() };
  const handle: RunHandle = { runId: id.runId, runtime: 'docker' };
  const names = resourceNames(id.runId);
  hooks.onStart?.(handle);

  const tmp = await fs.mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), `buildfence-${id.runId}-`));
  const started = new Date().toISOString();
  const dns: { forwarder?: Forwarder; resolver?: Resolver; feed?: SetFeed; reader?: DeniedReader; checker?: Checker } = {};
  let teardown: Promise<void> | undefined;
  const down = () =>
    (teardown ??= (async () => {
      dns.feed?.close();
      await dns.reader?.stop();
      await dns.resolver?.close();
      await dns.checker?.close();
      dns.forwarder?.close();
      await tearDown(handle, tmp, log);
    })());
  const stopBuild = () => killContainer(names.build, CANCEL_DEADLINE_MS);
  const cancel = onCancel(log, 'stopping the build and removing the fence', stopBuild);
  const fault = onFault(log, stopBuild);
  // Each step that creates something first checks that the run was not cancelled, nor failed, meanwhile.
  const check = () => {
    cancel.check();
    fault.check();
  };
  const step = async <T>(fn: () => Promise<T>): Promise<T> => {
    check();
    return fn();
  };
  let result: RunResult;
  try {
    let holderImageId = '';
    let mark: DrainMark | undefined;
    let request: BuildRequest | undefined;
    const rules = await log.group('Fence up', async () => {
      // Independent steps side by side; each one ends before the run goes on (or unwinds).
      const [, imageId, dirs, where] = await settled([
        sweep(id, log),
        step(() => ensureHolderImage(spec, log)),
        prepareDirs(tmp, spec),
        whereabouts(log),
      ] as const);
      holderImageId = imageId;
      const { placement, services, networkNames } = await step(() => site(spec, where, imageId, id, names.hostView));
      // Read (and refused, when an option cannot be translated) before anything of the fence exists.
      request = buildRequest(
        buildCreateArgs({
          id,
          spec,
          scriptDir: path.join(tmp, 'script'),
          envFile: path.join(tmp, 'env'),
          passedEnv: runnerEnvNames(process.env),
        }),
        { label: inputLabel(spec.via, 'docker-options'), apiVersion: where.apiVersion, ...buildPaths(where, spec.workspace, tmp) },
      );
      checkFenced(request.body, names.holder);
      if (where.job) await checkVolumes(request.throughVolumes, `Job container ${where.job.name}`);

      dns.forwarder = new Forwarder(await upstreamsFor(spec));
      const resolver = new Resolver({
        ...resolverSettings(spec),
        forwarder: dns.forwarder,
        onWarning: (m) => log.warning(m),
        onError: (err) => fault.fail(err),
        ...(networkNames ? { networkNames } : {}),
      });
      dns.resolver = resolver;
      const listen = placement.listen;
      const port = await resolver.listen(listen);
      const markPort = pickMarkPort();
      // The name check: TCP to addresses only name entries opened comes to the checker, beside the
      // resolver; it learns each connection's destination from the reader's lines.
      const book = new DestinationBook();
      let checker: { address4: string; address6?: string; port: number; ports: number } | undefined;
      if (spec.allow.some(checkedName)) {
        const listen6 = placement.listen6;
        dns.checker = new Checker({
          mode: spec.mode,
          allows: namePolicy(spec.allow, spec.deny),
          destinations: book,
          namesOf: (a) => resolver.namesOf.get(a)?.names.keys() ?? [],
          guarded: guardedBy(placement.guarded, placement.guardedNetworks),
          onWarning: (m) => log.warning(m),
        });
        const checkerPort = await dns.checker.listen(listen6 ? [listen, listen6] : [listen]);
        checker = { address4: listen, ...(listen6 ? { address6: listen6 } : {}), port: checkerPort, ports: CHECKER_PORTS };
      }
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
        ...(checker ? { checker } : {}),
      });
      await writeRuleFiles(dirs.rules, rules);
      await step(() =>
        holderStep(spec.holderImage, () =>
          createContainer(
            names.holder,
            holderConfig({
              id,
              image: imageId,
              network: placement.network,
              rulesDir: hostPathOf(where, dirs.rules, "buildfence's rules directory", TEMP_FIX),
              scriptDir: hostPathOf(where, dirs.script, "buildfence's script directory", TEMP_FIX),
              command: holderCommand(),
            }),
          ),
        ),
      );
      // Attached before it starts: the holder prints the read-back, then becomes the reader.
      const holder = await HolderOutput.attach(names.holder, spec.holderImage);
      const reader = (dns.reader = DeniedReader.watch(holder.reader, (l) => book.note(l.source, l.sourcePort, l)));
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
              openSetFeed(names.holder).then((f) => (dns.feed = f)),
            ] as const),
          ),
        step(() => createBuild(names.build, request!, log)),
      ] as const);
      resolver.serve(clients, dns.feed!, staticMembers(rules));
      dns.checker?.serve(clients);
      const holder4 = clients.find((a) => !a.includes(':'));
      if (holder4) mark = drainMark(holder4, markPort, listen);
      log.info(
        `Grade ${spec.grade}, mode ${spec.mode}: ${spec.allow.length} allowlist entr${spec.allow.length === 1 ? 'y' : 'ies'}; ` +
          `rules loaded and verified in holder ${names.holder}; DNS answered by buildfence at ${listen}:${port}` +
          (checker ? `; names checked on the wire at ports ${checker.port}-${checker.port + checker.ports - 1}.` : '.'),
      );
      return rules;
    });
    log.info(`Running the build in ${spec.image} (${names.build}).`);
    const build = await step(() => runBuild(names, log, dns.reader!.lost, check));
    // The kernel's counts first, then the mark: every entry they count is logged before the mark.
    const kernel = await readKernelCounts(names.holder).catch((err: Error) => {
      log.warning(`Cannot read the fence's counters in holder ${names.holder} (${err.message}): the totals are the log's.`);
      return undefined;
    });
    // The reader stops once the mark is through; the teardown then removes both containers.
    const denied = await dns.reader!.stop(mark);
    if (mark && !dns.reader!.markSeen) {
      log.info(
        `The end-of-run mark did not reach the holder (is the engine on another machine?): the reader waited ${DRAIN_MS} ms for the last denied attempts instead.`,
      );
    }
    for (const e of dns.resolver!.unresolvedEntries()) {
      log.warning(`Allowlist entry '${e.text}' was never resolved during the build: is it still needed?`);
    }
    result = {
      ...handle,
      started,
      ended: new Date().toISOString(),
      exitCode: build.exitCode,
      images: await imageRefs([
        [spec.holderImage, holderImageId],
        [spec.image, build.imageId],
      ]),
      rules,
      denied,
      kernel,
      dns: dns.resolver!.decisionLog(),
      namesOf: dns.resolver!.namesOf,
      wire: dns.checker?.decisionLog() ?? [],
    };
  } catch (err) {
    // What failed after a fault is its consequence: the fault is the reason.
    const reason = fault.reason();
    throw reason === undefined ? err : new Error(reason, { cause: err });
  } finally {
    await down();
    cancel.done();
    fault.done();
  }
  const reason = fault.reason();
  return reason === undefined ? result : { ...result, failure: reason };
}

/**
 * The named volumes the build mounts (docker-options' own, and a job container's that its mounts
 * lie in) are judged by what they were made from, before anything is created.
 */
async function checkVolumes(names: string[], label: string): Promise<void> {
  const found = await Promise.all(names.map(async (name) => ({ name, volume: await inspectVolume(name) })));
  checkNamedVolumes(
    found.flatMap(({ name, volume }) => (volume ? [{ name, driver: volume.Driver, options: volume.Options ?? {} }] : [])),
    { label, realPath: hostRealPath },
  );
}

/** Each image's name, local ID and registry digests, as the record binds them. */
async function imageRefs([holder, build]: Array<[string, string]>): Promise<{ holder: ImageRef; build: ImageRef }> {
  const ref = async ([name, id]: [string, string]): Promise<ImageRef> => {
    const digests = (await inspectImage(id).catch(() => undefined))?.RepoDigests ?? [];
    return { name, id, repoDigests: [...digests].sort() };
  };
  const [h, b] = await Promise.all([ref(holder), ref(build)]);
  return { holder: h, build: b };
}

async function sweep(id: RunIdentity, log: Log): Promise<void> {
  const leftovers = await findLeftovers(id, processAlive);
  if (leftovers.length === 0) return;
  const runs = [...new Set(leftovers.map((l) => l.runId))];
  log.info(`Removing ${leftovers.length} resource(s) left by ended run(s) ${runs.join(', ')}.`);
  await removeLeftovers(leftovers);
}

async function prepareDirs(tmp: string, spec: RunSpec): Promise<{ rules: string; script: string; envFile: string }> {
  const rules = path.join(tmp, 'rules');
  const script = path.join(tmp, 'script');
  await fs.mkdir(rules, { mode: 0o755 });
  await fs.mkdir(script, { mode: 0o755 });
  await fs.writeFile(path.join(script, SCRIPT_NAME), scriptText(spec.run), { mode: 0o644 });
  const envFile = path.join(tmp, 'env');
  await fs.writeFile(envFile, spec.env.map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  return { rules, script, envFile };
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

/**
 * Runs the build to its end, its output streamed as it comes. If the holder goes away meanwhile
 * (its reader ends on its own), the evidence can no longer be complete: the build is stopped and
 * the run fails.
 */
async function runBuild(
  names: ResourceNames,
  log: Log,
  holderLost: Promise<void>,
  check: () => void,
): Promise<{ exitCode: number; imageId: string }> {
  const info = await inspectContainer(names.build);
  let lost = false;
  void holderLost.then(async () => {
    lost = true;
    await killContainer(names.build).catch(() => undefined);
  });
  // Attached before the start, so that not a byte of the output is missed.
  const output = await attach(names.build, info.Config.Tty === true);
  await log.untrusted(async (write) => {
    const ends = (['stdout', 'stderr'] as const).map(
      (name) =>
        new Promise<void>((resolve) => {
          output[name].on('data', (d: Buffer) => write(d, name));
          output[name].on('end', resolve);
        }),
    );
    try {
      // A stop that came while the build was being attached found nothing running to kill.
      check();
      await startContainer(names.build);
    } catch (err) {
      output.close();
      throw new Error(`Cannot start the build container: ${(err as Error).message}`, { cause: err });
    }
    // Nor did one that came while it was being started.
    try {
      check();
    } catch {
      await killContainer(names.build).catch(() => undefined);
    }
    await Promise.all(ends);
  });
  const exit = await waitExit(names.build);
  if (exit.error) log.warning(`The build container reported: ${exit.error}`);
  if (lost) {
    throw new Error(
      `The holder container ${names.holder} stopped during the build, so its denied attempts could no longer be recorded. ` +
        'The build was stopped and the step fails. Did something remove the container?',
    );
  }
  return { exitCode: exit.exitCode, imageId: info.Image };
}

/** Like Promise.all, but waits for every step to end before failing: nothing runs on unseen. */
async function settled<T extends readonly unknown[]>(steps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

async function tearDown(handle: RunHandle, tmp: string, log: Log): Promise<void> {
  const problems = await removeRun(handle.runId);
  for (const p of problems) log.warning(`Teardown of run ${handle.runId}: ${p}`);
  await fs.rm(tmp, { recursive: true, force: true });
}
