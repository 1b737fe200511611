#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  runAction
} from "./chunks/chunk-4AYUMJHK.js";
import "./chunks/chunk-GYQCM2RF.js";
import {
  setFailed
} from "./chunks/chunk-V5LW6WI3.js";
import "./chunks/chunk-CGYFVSMH.js";
import "./chunks/chunk-BX36OKGZ.js";
import "./chunks/chunk-UND5B5GE.js";

// src/main.ts
runAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
