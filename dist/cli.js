#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  LABEL_RUN,
  VERSION,
  githubRun,
  newRunId,
  podName,
  podResolver,
  podVerify,
  renderPod,
  runFenced,
  runLabels,
  verdictOf,
  writeEvidence
} from "./chunks/chunk-NQHFRU63.js";
import "./chunks/chunk-YHHHWQTV.js";
import {
  readEvidence,
  verify
} from "./chunks/chunk-NMQYI222.js";
import {
  POLICY_FILE,
  PRESET_PREFIX,
  PolicyError,
  formatEntry,
  loadPolicy,
  parsePolicy,
  readRunSpec,
  require_ipaddr,
  require_shell_quote,
  suggestEntries,
  suggestionComment,
  textSummary,
  upstreamsFor,
  writeGrade,
  yaml
} from "./chunks/chunk-NYJPTFVT.js";
import "./chunks/chunk-L7Q7CW3I.js";
import {
  __toESM
} from "./chunks/chunk-UND5B5GE.js";

// src/cli.ts
var import_shell_quote = __toESM(require_shell_quote(), 1);
import * as fs from "node:fs";
import { parseArgs } from "node:util";

// src/terminal-log.ts
function terminalLog(options) {
  return {
    info: (m) => process.stderr.write(`${m}
`),
    warning: (m) => process.stderr.write(`warning: ${m}
`),
    debug: (m) => {
      if (options.verbose) process.stderr.write(`debug: ${m}
`);
    },
    group: async (name, fn) => {
      process.stderr.write(`== ${name}
`);
      return fn();
    },
    untrusted: (fn) => fn((data, stream) => process[stream].write(data))
  };
}

// src/policy/describe.ts
function describePolicy(policy) {
  const grades = [...policy.grades.values()];
  const own = grades.filter((g) => !g.builtIn).length;
  const builtIn = grades.filter((g) => g.builtIn).map((g) => g.name);
  const lines = [
    `# ${policy.file ?? "no policy file"}: valid; ${own} grade${own === 1 ? "" : "s"}` + (builtIn.length > 0 ? `, and the built-in ${builtIn.join(" and ")}` : "") + "."
  ];
  for (const g of grades) lines.push(...describeGrade(g));
  return lines.join("\n") + "\n";
}
function describeGrade(g) {
  const notes = [g.builtIn ? "built in" : "", g.chain.length > 1 ? `extends ${g.chain.slice(1).join(" -> ")}` : ""].filter(Boolean);
  return [
    `${g.name}:${notes.length > 0 ? `  # ${notes.join("; ")}` : ""}`,
    ...g.description === void 0 ? [] : [`  description: ${JSON.stringify(g.description)}`],
    `  mode: ${g.mode}`,
    `  fail-on-denied: ${g.failOnDenied}`,
    ...list("allow", g.allow),
    ...list("deny", g.deny)
  ];
}
function list(key, entries) {
  if (entries.length === 0) return [`  ${key}: []`];
  const texts = entries.map((e) => formatEntry(e)).map((t) => /^[A-Za-z0-9]/.test(t) ? t : JSON.stringify(t));
  const width = Math.max(...texts.map((t) => t.length));
  return [
    `  ${key}:`,
    ...entries.map((e, i) => `    - ${e.text.startsWith(PRESET_PREFIX) ? `${texts[i].padEnd(width)}  # ${e.text}` : texts[i]}`)
  ];
}

// src/kubernetes/network-policy.ts
var import_ipaddr = __toESM(require_ipaddr(), 1);
function renderNetworkPolicy(spec, id, upstreams, namespace) {
  if (spec.mode !== "block") {
    throw new Error(
      `Grade '${spec.grade}' runs in audit mode, which lets everything through: a NetworkPolicy would block what audit only records. Leave out --networkpolicy.`
    );
  }
  const names = spec.allow.filter((e) => e.kind === "name");
  if (names.length > 0) {
    throw new Error(
      `A NetworkPolicy cannot name hosts, so it would block the addresses of ${names.map((e) => `'${e.text}'`).join(", ")}. Use --networkpolicy only with address entries (the Pod alone fences names).`
    );
  }
  const deny = addressEntries(spec.deny);
  const egress = addressEntries(spec.allow).map((e) => ({
    to: [{ ipBlock: { cidr: e.cidr, ...exceptions(e, deny) } }],
    ports: e.protocols.map((p) => ({
      protocol: p.toUpperCase(),
      ...e.ports ? { port: e.ports.from, ...e.ports.to !== e.ports.from ? { endPort: e.ports.to } : {} } : {}
    }))
  }));
  for (const u of upstreams) {
    const cidr = `${u.address}/${import_ipaddr.default.parse(u.address).kind() === "ipv4" ? 32 : 128}`;
    egress.push({ to: [{ ipBlock: { cidr } }], ports: ["UDP", "TCP"].map((protocol) => ({ protocol, port: u.port })) });
  }
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: podName(id.runId), ...namespace ? { namespace } : {}, labels: runLabels(id) },
    spec: { podSelector: { matchLabels: { [LABEL_RUN]: id.runId } }, policyTypes: ["Egress"], egress }
  };
}
function exceptions(allow, deny) {
  const [net, prefix] = import_ipaddr.default.parseCIDR(allow.cidr);
  const inside = deny.filter((d) => d.family === allow.family).filter((d) => {
    const [addr, p] = import_ipaddr.default.parseCIDR(d.cidr);
    return p > prefix && addr.match(net, prefix);
  }).map((d) => d.cidr);
  return inside.length > 0 ? { except: [...new Set(inside)] } : {};
}
function addressEntries(entries) {
  return entries.filter((e) => e.kind === "address");
}

// src/kubernetes/render.ts
async function renderPodManifest(spec, options, runId = newRunId()) {
  const upstreams = await upstreamsFor(spec);
  const id = { runId };
  const { pod } = renderPod({
    spec,
    id,
    upstreams,
    agentImage: spec.agentImage,
    sidecars: options.sidecars,
    namespace: options.namespace
  });
  const objects = [pod];
  if (options.networkPolicy) objects.push(renderNetworkPolicy(spec, id, upstreams, options.namespace));
  return objects.map((o) => toYaml(o)).join("---\n");
}
function toYaml(object) {
  return yaml.dump(object, { lineWidth: -1, noRefs: true });
}

// src/cli.ts
var VALUE_FLAGS = [
  "policy",
  "grade",
  "image",
  "shell",
  "working-directory",
  "mode",
  "holder-image",
  "network",
  "docker-options",
  "pull",
  "dns-upstream",
  "dns-ttl-min",
  "dns-ttl-max",
  "runtime",
  "agent-image",
  "subject-path"
];
var USAGE = `Usage: buildfence run [options] -- COMMAND [ARGS...]
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
async function main(argv) {
  const dash = argv.indexOf("--");
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const command = dash < 0 ? [] : argv.slice(dash + 1);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(VALUE_FLAGS.map((f) => [f, { type: "string" }])),
      allow: { type: "string", multiple: true },
      report: { type: "string" },
      attestation: { type: "string" },
      "fail-on-denied": { type: "boolean" },
      subject: { type: "string", multiple: true },
      "allow-denied": { type: "boolean" },
      write: { type: "string" },
      env: { type: "string", multiple: true },
      verbose: { type: "boolean" },
      networkpolicy: { type: "boolean" },
      sidecars: { type: "string" },
      namespace: { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" }
    }
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`buildfence ${VERSION}
`);
    return 0;
  }
  if (positionals[0] === "suggest") return suggestCommand(positionals.slice(1), values);
  if (positionals[0] === "verify") return verifyCommand(positionals.slice(1), values);
  if (positionals[0] === "check-policy") return checkPolicy(positionals.slice(1), values.policy);
  if (positionals[0] === "pod-verify" && positionals.length === 2) return podVerify(positionals[1]);
  if (positionals[0] === "pod-resolver" && positionals.length === 1) return podResolver().then(() => 0);
  const verb = positionals[0];
  if (verb !== "run" && verb !== "render-pod" || positionals.length !== 1)
    throw new Error(`expected 'run', 'render-pod', 'check-policy', 'suggest' or 'verify'.

${USAGE}`);
  if (command.length === 0) throw new Error(`no command given after '--'.

${USAGE}`);
  const flag = values;
  const inputs = {
    ...Object.fromEntries(VALUE_FLAGS.map((f) => [f, flag[f] ?? ""])),
    allowlist: (flag.allow ?? []).join("\n"),
    env: (flag.env ?? []).join("\n"),
    run: command.length === 1 ? command[0] : (0, import_shell_quote.quote)(command),
    "fail-on-denied": flag["fail-on-denied"] ? "true" : ""
  };
  const spec = readRunSpec((name) => inputs[name] ?? "", { workspace: process.cwd(), via: "cli" });
  if (verb === "render-pod") {
    const sidecars = flag.sidecars ?? "native";
    if (sidecars !== "native" && sidecars !== "regular")
      throw new Error(`--sidecars has invalid value '${sidecars}'. Expected 'native' or 'regular'.`);
    process.stdout.write(
      await renderPodManifest(spec, {
        networkPolicy: Boolean(flag.networkpolicy),
        sidecars,
        namespace: flag.namespace
      })
    );
    return 0;
  }
  const statementFile = flag.attestation;
  if (spec.subjectPaths.length > 0 && statementFile === void 0) {
    throw new Error("--subject-path names artifacts for an attestation: give --attestation FILE to write it.");
  }
  const result = await runFenced(spec, terminalLog({ verbose: Boolean(values.verbose) }));
  const { record, problem } = await writeEvidence(
    spec,
    result,
    { github: githubRun(process.env), version: VERSION },
    { record: flag.report, statement: statementFile }
  );
  process.stderr.write(textSummary(record));
  const failure = [verdictOf(record, spec.failOnDenied), problem].filter(Boolean).join(" ");
  if (failure) process.stderr.write(`buildfence: ${failure}
`);
  if (record.failure !== void 0) return 2;
  return record.exitCode !== 0 ? record.exitCode : failure ? 1 : 0;
}
function suggestCommand(files, flags) {
  if (files.length === 0) throw new Error(`suggest takes one or more records.

${USAGE}`);
  const grade = flags.grade ?? "release";
  if (!/^[A-Za-z0-9_-]+$/.test(grade)) throw new Error(`--grade has invalid name '${grade}'. Expected letters, digits, '-' and '_'.`);
  const records = files.map((file) => {
    try {
      return readEvidence(fs.readFileSync(file, "utf8"), file).record;
    } catch (err) {
      throw new Error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  });
  const target = flags.write;
  const existing = target !== void 0 && fs.existsSync(target) ? fs.readFileSync(target, "utf8") : void 0;
  const allow = suggestEntries(records).map((s) => ({ entry: s.entry, comment: suggestionComment(s) }));
  const header = `suggested by buildfence suggest from ${records.length} run${records.length === 1 ? "" : "s"} (${records.filter((r) => r.mode === "audit").length} in audit mode)`;
  const text = writeGrade(existing, grade, { mode: "block", allow }, header);
  parsePolicy(text, target ?? "the suggestion");
  if (target === void 0) process.stdout.write(text);
  else {
    fs.writeFileSync(target, text);
    process.stderr.write(`buildfence suggest: grade ${grade} (${allow.length} entries) written to ${target}.
`);
  }
  return 0;
}
async function verifyCommand(files, flags) {
  const policy = flags.policy;
  const grade = flags.grade;
  if (files.length !== 1 || !policy || !grade)
    throw new Error(`verify takes one record or attestation, --policy FILE and --grade NAME.

${USAGE}`);
  const outcome = await verify({
    evidence: files[0],
    policy,
    grade,
    subjects: flags.subject ?? [],
    allowDenied: Boolean(flags["allow-denied"]),
    dir: process.cwd(),
    label: (name) => name === "evidence" ? "the record or attestation" : `--${name}`
  });
  (outcome.exitCode === 2 ? process.stderr : process.stdout).write(outcome.text);
  return outcome.exitCode;
}
function checkPolicy(files, policyFlag) {
  if (files.length + (policyFlag === void 0 ? 0 : 1) > 1) throw new Error(`check-policy takes one policy file.

${USAGE}`);
  const named = files[0] ?? policyFlag ?? "";
  try {
    const policy = loadPolicy(named, process.cwd(), "check-policy");
    if (policy.file === void 0) throw new Error(`there is no ${POLICY_FILE} here; name the policy file: buildfence check-policy FILE`);
    process.stdout.write(describePolicy(policy));
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    process.stderr.write(`${err.message}
`);
    return 1;
  }
}
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`buildfence: ${err instanceof Error ? err.message : String(err)}
`);
    process.exit(2);
  }
);
