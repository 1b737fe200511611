#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  cleanupAction,
  warning
} from "./chunks/chunk-CGX4LVNQ.js";
import "./chunks/chunk-HP2D5BYO.js";
import "./chunks/chunk-VWKEGHXX.js";
import "./chunks/chunk-UND5B5GE.js";

// src/post.ts
cleanupAction().catch((err) => warning(`buildfence cleanup: ${err instanceof Error ? err.message : String(err)}`));
