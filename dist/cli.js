#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  __toESM,
  readRunSpec,
  require_shell_quote,
  runSandbox,
  terminalLog
} from "./chunks/chunk-4SCDSTUQ.js";

// src/cli.ts
var import_shell_quote = __toESM(require_shell_quote(), 1);
import { parseArgs } from "node:util";
var VALUE_FLAGS = [
  "grade",
  "image",
  "shell",
  "working-directory",
  "mode",
  "holder-image",
  "network",
  "docker-options",
  "pull"
];
var USAGE = `Usage: buildfence run [options] -- COMMAND [ARGS...]

Runs COMMAND in a build container whose outbound network is fenced.

Options (each mirrors the action input of the same name):
  --grade NAME               dev (audit, the default) or release (block)
  --allow ENTRY              allowlist entry; repeatable (203.0.113.7, 10.0.0.0/8:443, udp://[2001:db8::1]:53)
  --image IMAGE              build image (default ubuntu:24.04)
  --shell SHELL              how the script runs (default 'sh -e')
  --working-directory DIR    relative to the current directory
  --env KEY=VALUE            variable for the build; repeatable
  --mode block|audit         override the grade's mode
  --holder-image IMAGE       holder image (default buildfence's own)
  --network NAME             existing Docker network for the holder (default: a fresh one)
  --docker-options OPTS      extra docker run options for the build container
  --pull missing|never       whether docker may pull missing images (default missing)
  --verbose                  print debug messages
  -h, --help                 this text

The exit status is the build's, or 2 when buildfence itself fails.
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
      env: { type: "string", multiple: true },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" }
    }
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals[0] !== "run" || positionals.length !== 1) throw new Error(`expected 'run'.

${USAGE}`);
  if (command.length === 0) throw new Error(`no command given after '--'.

${USAGE}`);
  const flag = values;
  const inputs = {
    ...Object.fromEntries(VALUE_FLAGS.map((f) => [f, flag[f] ?? ""])),
    allowlist: (flag.allow ?? []).join("\n"),
    env: (flag.env ?? []).join("\n"),
    run: command.length === 1 ? command[0] : (0, import_shell_quote.quote)(command)
  };
  const spec = readRunSpec((name) => inputs[name] ?? "", { workspace: process.cwd(), allowlistSource: "--allow" });
  const result = await runSandbox(spec, terminalLog({ verbose: Boolean(values.verbose) }));
  return result.exitCode;
}
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`buildfence: ${err instanceof Error ? err.message : String(err)}
`);
    process.exit(2);
  }
);
