#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  runAction
} from "./chunks/chunk-CHG75IKY.js";
import {
  setFailed
} from "./chunks/chunk-MTC7SU6M.js";

// src/main.ts
runAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
