#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  runAction
} from "./chunks/chunk-MJWVW6C5.js";
import {
  setFailed
} from "./chunks/chunk-WIJQJBCM.js";
import "./chunks/chunk-RFD47U6Q.js";
import "./chunks/chunk-5CBOWLYC.js";

// src/main.ts
runAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
