// PodApi over @kubernetes/client-node (in-cluster config, or KUBECONFIG). Loaded on demand: the
// 2.x client needs Node 22.19 or later, and the Docker path must not pay for it.
import { Writable } from 'node:stream';
import type { PodApi } from './pod-lifecycle.js';

/** Seconds the kubelet gives the Pod's containers to stop: the fence's ipset ignores SIGTERM. */
const DELETE_GRACE_SECONDS = 1;

export async function kubernetesApi(): Promise<PodApi> {
  const k8s = await import('@kubernetes/client-node');
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
    followLog: (namespace, name, container, write) =>
      new Promise<void>((resolve, reject) => {
        const sink = new Writable({
          write(chunk: Buffer, _encoding, callback) {
            write(chunk);
            callback();
          },
        });
        logs
          .log(
            namespace,
            name,
            container,
            sink,
            (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve()),
            { follow: true },
          )
          .catch(reject);
      }),
    deletePod: async (namespace, name) => {
      await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: DELETE_GRACE_SECONDS });
    },
  };
}
