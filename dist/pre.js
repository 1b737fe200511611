#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  prefetchable
} from "./chunks/chunk-YHHHWQTV.js";
import {
  debug,
  getInput,
  info
} from "./chunks/chunk-P45E2RWN.js";
import "./chunks/chunk-UND5B5GE.js";

// src/pre.ts
import * as os from "node:os";
import * as path from "node:path";

// src/docker/prefetch.ts
import { spawn } from "node:child_process";
import * as fs from "node:fs";
function startPrefetch(image, logFile) {
  const log = fs.openSync(logFile, "a");
  try {
    const child = spawn("sh", ["-c", 'docker image inspect "$1" >/dev/null 2>&1 || exec docker pull --quiet "$1"', "prefetch", image], {
      detached: true,
      stdio: ["ignore", log, log]
    });
    child.on("error", () => void 0);
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(log);
  }
}

// src/pre.ts
try {
  const image = getInput("holder-image") || "";
  if (prefetchable(image, getInput("pull"), getInput("runtime"))) {
    const log = path.join(process.env.RUNNER_TEMP || os.tmpdir(), "buildfence-prefetch.log");
    const pid = startPrefetch(image, log);
    info(`Fetching the holder image ${image} in the background (pid ${pid ?? "?"}, log ${log}).`);
  }
} catch (err) {
  debug(`buildfence pre: ${err instanceof Error ? err.message : String(err)}`);
}
