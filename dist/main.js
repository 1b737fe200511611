#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  runAction
} from "./chunks/chunk-2VKPTWYL.js";
import "./chunks/chunk-NQHFRU63.js";
import "./chunks/chunk-YHHHWQTV.js";
import {
  setFailed
} from "./chunks/chunk-P45E2RWN.js";
import "./chunks/chunk-NYJPTFVT.js";
import "./chunks/chunk-L7Q7CW3I.js";
import "./chunks/chunk-UND5B5GE.js";

// src/main.ts
runAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
