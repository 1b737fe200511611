// What runs inside a rendered Pod from buildfence's agent image (node and the bundled CLI):
// `pod-verify` in an init container, `pod-resolver` beside the build. Hidden CLI commands.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { SetFeed } from '../dns/feed.js';
import { Resolver } from '../dns/resolver.js';
import { guardedBy } from '../firewall/ruleset.js';
import { parseWireLine } from '../report/nflog.js';
import { Checker } from '../wire/checker.js';
import { DestinationBook } from '../wire/destinations.js';
import { namePolicy } from '../wire/policy.js';
import { Forwarder } from '../dns/upstream.js';
import type { Ruleset } from '../firewall/ruleset.js';
import { readbackProblems } from '../firewall/verify.js';
import { joinedFromEnv } from './env-pieces.js';
import { AGENT_ENV, CHECKER_LISTEN, failedFile, POD_PATHS } from './pod-layout.js';
import type { ResolverConfig } from './pod.js';

/** Compares the holder's read-back with the rendered rules; 0 when equal, 1 (and every difference) when not. */
export function podVerify(readbackFile: string, env: NodeJS.ProcessEnv = process.env): number {
  const rules = JSON.parse(requireEnv(env, AGENT_ENV.rules)) as Ruleset;
  const diffs = readbackProblems(rules, fs.readFileSync(readbackFile, 'utf8'));
  if (diffs.length === 0) {
    process.stdout.write('buildfence: the rules read back from the holder equal the rules rendered.\n');
    return 0;
  }
  process.stderr.write(
    `buildfence: the rules read back from the holder differ from the rules rendered, so the build is not started:\n  ${diffs.join('\n  ')}\n`,
  );
  return 1;
}

/** One line of the resolver's log: a DNS decision as it stands now (the last line per name, type and verdict wins). */
export const DECISION_PREFIX = 'buildfence-dns ';
/** One line of the resolver's log: a name check refusal as it stands now (the last line per row wins). */
export const WIRE_PREFIX = 'buildfence-wire ';
/** One line of the resolver's log: a fault in its own process (JSON string), after which it went on answering. */
export const FAULT_PREFIX = 'buildfence-fault ';

/**
 * Runs the resolver until SIGTERM: the nat rule sends every DNS packet of the Pod here. When it
 * cannot start, it writes why to its `.failed` file, so the build ends at once with that reason.
 */
export async function podResolver(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const failed = failedFile('resolver');
  let started: Awaited<ReturnType<typeof startResolver>>;
  try {
    // A restarted sidecar (native sidecars restart) starts without its old failure.
    fs.rmSync(failed, { force: true });
    started = await startResolver(env);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    try {
      fs.writeFileSync(failed, `${reason}\n`);
    } catch {
      // The reason still goes to this container's log (the CLI prints it).
    }
    throw err;
  }
  // A fault must not end the resolver: the build would lose its DNS, and a restarted sidecar its
  // decision log. It goes on answering (a query that fails gets SERVFAIL), and the run fails with the fault.
  process.on('uncaughtException', reportFault);
  process.on('unhandledRejection', reportFault);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  started.feed.close();
  await started.resolver.close();
  await started.checker?.close();
  started.forwarder.close();
}

/** Prints a fault for the runtime, which fails the run with it (pod-lifecycle.ts, readFaults). */
function reportFault(err: unknown): void {
  process.stderr.write(`buildfence resolver: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.stdout.write(`${FAULT_PREFIX}${JSON.stringify(err instanceof Error ? err.message : String(err))}\n`);
}

async function startResolver(
  env: NodeJS.ProcessEnv,
): Promise<{ resolver: Resolver; forwarder: Forwarder; feed: SetFeed; checker?: Checker }> {
  const config = JSON.parse(requireEnv(env, AGENT_ENV.resolver)) as ResolverConfig;
  const forwarder = new Forwarder(config.upstreams);
  const resolver = new Resolver({
    mode: config.mode,
    allow: config.allow,
    deny: config.deny,
    ttlMin: config.ttlMin,
    ttlMax: config.ttlMax,
    forwarder,
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    onError: reportFault,
    onDecision: (d) => process.stdout.write(`${DECISION_PREFIX}${JSON.stringify(d)}\n`),
  });
  await resolver.listen(config.listen.address, config.listen.port);
  // Opening a FIFO waits for its other end: the fence container's `ipset -`.
  const input = fs.createWriteStream(path.join(POD_PATHS.feed, 'in'));
  const output = fs.createReadStream(path.join(POD_PATHS.feed, 'out'));
  await Promise.all([opened(input), opened(output)]);
  const feed = new SetFeed({ input, output, close: () => output.destroy() });
  // Every address of this network namespace: the build's queries come from the Pod's own addresses.
  const own = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  resolver.serve(own, feed, new Set(config.staticElements));
  const checker = config.checker ? await startChecker(config, config.checker.port, resolver, own) : undefined;
  fs.writeFileSync(path.join(POD_PATHS.ready, 'resolver'), '');
  process.stderr.write(
    `buildfence resolver: listening on ${config.listen.address}:${config.listen.port}, upstreams ${config.upstreams.map((u) => `${u.address}:${u.port}`).join(', ')}` +
      (checker ? `; names checked on the wire at port ${config.checker!.port}\n` : '\n'),
  );
  return { resolver, forwarder, feed, ...(checker ? { checker } : {}) };
}

/**
 * The name checker, as the resolver's user (whose connections the rules let out): the nat rules
 * send it the Pod's checked TCP, and the fence's second reader the first packet of each, through
 * the `wire` FIFO, from which it learns where each connection was going.
 */
async function startChecker(config: ResolverConfig, port: number, resolver: Resolver, own: string[]): Promise<Checker> {
  const book = new DestinationBook();
  const lines = readline.createInterface({ input: fs.createReadStream(path.join(POD_PATHS.feed, 'wire')) });
  lines.on('line', (line) => {
    const w = parseWireLine(line);
    if (w) book.note(w.source, w.sourcePort, w);
  });
  const checker = new Checker({
    mode: config.mode,
    allows: namePolicy(config.allow, config.deny),
    destinations: book,
    namesOf: (a) => resolver.namesOf.get(a)?.names.keys() ?? [],
    guarded: guardedBy([], []),
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    onDecision: (d) => process.stdout.write(`${WIRE_PREFIX}${JSON.stringify(d)}\n`),
  });
  await checker.listen([CHECKER_LISTEN.address4], port);
  // A Pod without IPv6 has no ::1, and no IPv6 to check: its nat rule then leads nowhere (refused).
  await checker
    .listen([CHECKER_LISTEN.address6], port)
    .catch((err: Error) => process.stderr.write(`buildfence resolver: ${err.message}\n`));
  checker.serve(own);
  return checker;
}

function opened(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
}

/** A value the Pod carries in pieces (pod.ts envPieces), joined again. */
function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = joinedFromEnv(env, name);
  if (!value) throw new Error(`${name}_0 is not set: this command runs inside a Pod that buildfence rendered.`);
  return value;
}
