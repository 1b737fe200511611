#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  runAction
} from "./chunks/chunk-LK5YZACT.js";
import {
  setFailed
} from "./chunks/chunk-YBXC6F3L.js";
import "./chunks/chunk-KRGBTQFY.js";
import "./chunks/chunk-5CBOWLYC.js";

// src/main.ts
runAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
