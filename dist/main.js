#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  runAction
} from "./chunks/chunk-JNHNYDIT.js";
import "./chunks/chunk-SZQWY6WY.js";
import "./chunks/chunk-BESYKCQE.js";
import {
  setFailed
} from "./chunks/chunk-P45E2RWN.js";
import "./chunks/chunk-3PAUTSQF.js";
import "./chunks/chunk-VWKEGHXX.js";
import "./chunks/chunk-UND5B5GE.js";

// src/main.ts
runAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
