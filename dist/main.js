#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  runAction
} from "./chunks/chunk-MD4LGCSY.js";
import {
  setFailed
} from "./chunks/chunk-OKQVMQD4.js";

// src/main.ts
runAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
