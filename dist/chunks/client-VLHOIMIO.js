#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import "./chunk-UND5B5GE.js";

// src/kubernetes/client.ts
import { Writable } from "node:stream";
var DELETE_GRACE_SECONDS = 1;
async function kubernetesApi() {
  const k8s = await import("./dist-ZJJJB6BB.js");
  const config = new k8s.KubeConfig();
  config.loadFromDefault();
  const core = config.makeApiClient(k8s.CoreV1Api);
  const logs = new k8s.Log(config);
  return {
    createPod: async (namespace, body) => {
      await core.createNamespacedPod({ namespace, body });
    },
    readPod: (namespace, name) => core.readNamespacedPod({ namespace, name }),
    readLog: (namespace, name, container) => core.readNamespacedPodLog({ namespace, name, container }),
    followLog: (namespace, name, container, write) => new Promise((resolve, reject) => {
      const sink = new Writable({
        write(chunk, _encoding, callback) {
          write(chunk);
          callback();
        }
      });
      logs.log(
        namespace,
        name,
        container,
        sink,
        (err) => err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve(),
        { follow: true }
      ).catch(reject);
    }),
    deletePod: async (namespace, name) => {
      await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: DELETE_GRACE_SECONDS });
    }
  };
}
export {
  kubernetesApi
};
