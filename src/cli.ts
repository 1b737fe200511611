// buildfence from a terminal: the same fenced run as the action, and the policy checker.
//   buildfence run --grade release --allow 192.0.2.10:443 --image ubuntu:24.04 -- ./build.sh
//   buildfence check-policy .github/buildfence.yml
//   buildfence render-pod --grade release --allow 192.0.2.10:443 --image ubuntu:24.04 -- ./build.sh
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { quote } from 'shell-quote';
import { readRunSpec } from './inputs.js';
import { terminalLog } from './terminal-log.js';
import { describePolicy } from './policy/describe.js';
import { loadPolicy } from './policy/load.js';
import { POLICY_FILE } from './run/defaults.js';
import { parsePolicy, PolicyError } from './policy/policy.js';
import { verdictOf } from './report/verdict.js';
import { githubRun } from './report/github-run.js';
import { writeEvidence } from './report/write-record.js';
import { VERSION } from './run/version.js';
import { verify } from './verify/verify.js';
import { readEvidence } from './verify/evidence-input.js';
import { writeGrade } from './policy/edit.js';
import { suggestEntries, suggestionComment } from './report/suggest.js';
import { textSummary } from './report/summary.js';
import { runFenced } from './choose-runtime.js';
import { podResolver, podVerify } from './kubernetes/agent.js';
import { renderPodManifest } from './kubernetes/render.js';

/** CLI flags that take an action input of the same name. */
const VALUE_FLAGS = [
  'policy',
  'grade',
  'image',
  'shell',
  'working-directory',
  'mode',
  'holder-image',
  'network',
  'docker-options',
  'pull',
  'dns-upstream',
  'dns-ttl-min',
  'dns-ttl-max',
  'runtime',
  'agent-image',
  'subject-path',
] as const;

const USAGE = `Usage: buildfence run [options] -- COMMAND [ARGS...]
       buildfence render-pod [options] [--networkpolicy] -- COMMAND [ARGS...]
       buildfence check-policy [FILE]
       buildfence suggest RECORD... [--grade NAME] [--write FILE]
       buildfence verify RECORD_OR_ATTESTATION --policy FILE --grade NAME [--subject FILE]... [--allow-denied]

run: runs COMMAND in a build container (or, --runtime host, on this machine) whose outbound
  network is fenced.
render-pod: prints the same fence as a Kubernetes Pod (YAML, for kubectl apply), without running
  it; takes the options of run (not --network, --docker-options, --report), and:
  --networkpolicy            also print an egress NetworkPolicy for the address entries
  --sidecars native|regular  fence and resolver as native sidecars (Kubernetes 1.29+, the
                             default) or as regular containers
  --namespace NAME           the Pod's namespace (default: kubectl's)
suggest: merges the records of earlier runs (audit runs above all; records, statements or
  bundles) into a grade that lets the same builds through, printed as YAML: presets that cover
  every use of their names, exact names with their ports, a wildcard only where 3 or more
  subdomains of one registrable domain were used (never over a public suffix), addresses last,
  each with how many runs and attempts it came from. --grade NAME names it (default release);
  --write FILE sets that grade in the policy file FILE (made when missing), keeping the rest of
  the file and its comments. The result is checked as check-policy would.
verify: checks, offline, that a recorded run (its JSON record, its in-toto statement, or the
  attestation bundle gh attestation download writes) satisfies grade NAME of the policy FILE:
  block mode, an allowlist within the grade's, its deny entries in force, the policy file's
  digest, no denied attempt (unless --allow-denied), each --subject FILE among the attested
  artifacts. One line per check; exits 0 when all pass, 1 when one fails, 2 when an input
  cannot be read. Signatures are gh's to check (gh attestation verify).
check-policy: validates a policy file (default ${POLICY_FILE}) and prints, per grade, the
  mode, fail-on-denied and the effective allow and deny lists, presets expanded.

Options of run (each mirrors the action input of the same name):
  --policy FILE              policy file with the grades (default ${POLICY_FILE} when it exists)
  --grade NAME               a grade of the policy file, or the built-in dev (audit, the default)
                             or release (block)
  --allow ENTRY              allowlist entry or preset; repeatable (203.0.113.7, 10.0.0.0/8:443,
                             udp://[2001:db8::1]:53, preset:npm)
  --image IMAGE              build image (default ubuntu:24.04; not with --runtime host)
  --shell SHELL              how the script runs (default 'sh -e')
  --working-directory DIR    relative to the current directory
  --env KEY=VALUE            variable for the build; repeatable
  --mode block|audit         override the grade's mode
  --holder-image IMAGE       holder image (default buildfence's own)
  --network NAME             existing Docker network for the holder (default: Docker's default
                             bridge, where the build may not reach other containers)
  --docker-options OPTS      extra docker run options for the build container (not with
                             --runtime host)
  --pull missing|never       whether docker may pull missing images (default missing; not with
                             --runtime host)
  --dns-upstream LIST        resolvers for allowed names (default: the host's own)
  --dns-ttl-min SECONDS      floor for how long a learned address stays open (default 60)
  --dns-ttl-max SECONDS      ceiling for the same (default 3600)
  --runtime auto|docker|kubernetes|host  where the build runs (default auto); host: on this
                             machine, with its own files and tools, in the fence's namespace
  --agent-image IMAGE        the kubernetes runtime's verifier and resolver image
  --fail-on-denied           fail (exit 1) when anything was denied, even if the build passed
  --report FILE              write the JSON evidence record to FILE
  --subject-path LIST        artifacts the build makes (relative paths, comma-separated), named by
                             the attestation with their sha256
  --attestation FILE         write the in-toto Statement (the record as its predicate) to FILE
  --verbose                  print debug messages
  -h, --help                 this text
  --version                  buildfence's version

The exit status of run is the build's when it failed, 1 when only fail-on-denied failed it,
2 when buildfence itself fails (also during the build: the build is stopped, and --report still
writes what was recorded until then). check-policy exits
with 0 when the policy is valid, 1 when it is not, 2 on any other error.
`;

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const command = dash < 0 ? [] : argv.slice(dash + 1);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(VALUE_FLAGS.map((f) => [f, { type: 'string' as const }])),
      allow: { type: 'string', multiple: true },
      report: { type: 'string' },
      attestation: { type: 'string' },
      'fail-on-denied': { type: 'boolean' },
      subject: { type: 'string', multiple: true },
      'allow-denied': { type: 'boolean' },
      write: { type: 'string' },
      env: { type: 'string', multiple: true },
      verbose: { type: 'boolean' },
      networkpolicy: { type: 'boolean' },
      sidecars: { type: 'string' },
      namespace: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`buildfence ${VERSION}\n`);
    return 0;
  }
  if (positionals[0] === 'suggest') return suggestCommand(positionals.slice(1), values);
  if (positionals[0] === 'verify') return verifyCommand(positionals.slice(1), values);
  if (positionals[0] === 'check-policy') return checkPolicy(positionals.slice(1), (values as { policy?: string }).policy);
  // Inside a rendered Pod (the agent image), not for people: see src/kubernetes/agent.ts.
  if (positionals[0] === 'pod-verify' && positionals.length === 2) return podVerify(positionals[1]);
  if (positionals[0] === 'pod-resolver' && positionals.length === 1) return podResolver().then(() => 0);
  const verb = positionals[0];
  if ((verb !== 'run' && verb !== 'render-pod') || positionals.length !== 1)
    throw new Error(`expected 'run', 'render-pod', 'check-policy', 'suggest' or 'verify'.\n\n${USAGE}`);
  if (command.length === 0) throw new Error(`no command given after '--'.\n\n${USAGE}`);

  const flag = values as Record<string, string | string[] | boolean | undefined>;
  const inputs: Record<string, string> = {
    ...Object.fromEntries(VALUE_FLAGS.map((f) => [f, (flag[f] as string | undefined) ?? ''])),
    allowlist: ((flag.allow as string[] | undefined) ?? []).join('\n'),
    env: ((flag.env as string[] | undefined) ?? []).join('\n'),
    run: command.length === 1 ? command[0] : quote(command),
    'fail-on-denied': flag['fail-on-denied'] ? 'true' : '',
  };
  const spec = readRunSpec((name) => inputs[name] ?? '', { workspace: process.cwd(), via: 'cli' });
  if (verb === 'render-pod') {
    const sidecars = (flag.sidecars as string | undefined) ?? 'native';
    if (sidecars !== 'native' && sidecars !== 'regular')
      throw new Error(`--sidecars has invalid value '${sidecars}'. Expected 'native' or 'regular'.`);
    process.stdout.write(
      await renderPodManifest(spec, {
        networkPolicy: Boolean(flag.networkpolicy),
        sidecars,
        namespace: flag.namespace as string | undefined,
      }),
    );
    return 0;
  }
  const statementFile = flag.attestation as string | undefined;
  if (spec.subjectPaths.length > 0 && statementFile === undefined) {
    throw new Error('--subject-path names artifacts for an attestation: give --attestation FILE to write it.');
  }
  const result = await runFenced(spec, terminalLog({ verbose: Boolean(values.verbose) }));
  const { record, problem } = await writeEvidence(
    spec,
    result,
    { github: githubRun(process.env), version: VERSION },
    { record: flag.report as string | undefined, statement: statementFile },
  );
  process.stderr.write(textSummary(record));
  const failure = [verdictOf(record, spec.failOnDenied), problem].filter(Boolean).join(' ');
  if (failure) process.stderr.write(`buildfence: ${failure}\n`);
  // 2 when buildfence itself failed during the run (the report holds what it recorded until
  // then); else the build's own exit code when it failed; 1 when only fail-on-denied (or the
  // attestation) failed the run.
  if (record.failure !== undefined) return 2;
  return record.exitCode !== 0 ? record.exitCode : failure ? 1 : 0;
}

function suggestCommand(files: string[], flags: Record<string, unknown>): number {
  if (files.length === 0) throw new Error(`suggest takes one or more records.\n\n${USAGE}`);
  const grade = (flags.grade as string | undefined) ?? 'release';
  if (!/^[A-Za-z0-9_-]+$/.test(grade)) throw new Error(`--grade has invalid name '${grade}'. Expected letters, digits, '-' and '_'.`);
  const records = files.map((file) => {
    try {
      return readEvidence(fs.readFileSync(file, 'utf8'), file).record;
    } catch (err) {
      throw new Error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  });
  const target = flags.write as string | undefined;
  const existing = target !== undefined && fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
  const allow = suggestEntries(records).map((s) => ({ entry: s.entry, comment: suggestionComment(s) }));
  const header = `suggested by buildfence suggest from ${records.length} run${records.length === 1 ? '' : 's'} (${records.filter((r) => r.mode === 'audit').length} in audit mode)`;
  const text = writeGrade(existing, grade, { mode: 'block', allow }, header);
  // What it writes, check-policy accepts: a suggestion that would not load is a bug, not a file.
  parsePolicy(text, target ?? 'the suggestion');
  if (target === undefined) process.stdout.write(text);
  else {
    fs.writeFileSync(target, text);
    process.stderr.write(`buildfence suggest: grade ${grade} (${allow.length} entries) written to ${target}.\n`);
  }
  return 0;
}

async function verifyCommand(files: string[], flags: Record<string, unknown>): Promise<number> {
  const policy = flags.policy as string | undefined;
  const grade = flags.grade as string | undefined;
  if (files.length !== 1 || !policy || !grade)
    throw new Error(`verify takes one record or attestation, --policy FILE and --grade NAME.\n\n${USAGE}`);
  const outcome = await verify({
    evidence: files[0],
    policy,
    grade,
    subjects: (flags.subject as string[] | undefined) ?? [],
    allowDenied: Boolean(flags['allow-denied']),
    dir: process.cwd(),
    label: (name) => (name === 'evidence' ? 'the record or attestation' : `--${name}`),
  });
  (outcome.exitCode === 2 ? process.stderr : process.stdout).write(outcome.text);
  return outcome.exitCode;
}

function checkPolicy(files: string[], policyFlag: string | undefined): number {
  if (files.length + (policyFlag === undefined ? 0 : 1) > 1) throw new Error(`check-policy takes one policy file.\n\n${USAGE}`);
  const named = files[0] ?? policyFlag ?? '';
  try {
    const policy = loadPolicy(named, process.cwd(), 'check-policy');
    if (policy.file === undefined) throw new Error(`there is no ${POLICY_FILE} here; name the policy file: buildfence check-policy FILE`);
    process.stdout.write(describePolicy(policy));
    return 0;
  } catch (err) {
    // FILE:LINE:COLUMN first, as compilers print it, so that editors can jump there.
    if (!(err instanceof PolicyError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`buildfence: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
