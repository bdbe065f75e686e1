import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../../twin/prometheus/config/prometheus-config.ts';
import {
  inClusterEndpoint,
  kubeConfigFor,
  loadClientNode,
  namespacesFor,
  SERVICE_ACCOUNT_DIR,
} from '../../../../../twin/prometheus/discovery/kubernetes/kubernetes-discovery.ts';

const sd = (yaml: string) =>
  parseConfig(`scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - ${yaml}\n`)
    .scrapeConfigs[0]!.kubernetesSdConfigs[0]!;

/** A pod's service-account volume as the kubelet writes it. */
function serviceAccountVolume(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sa-')), 'serviceaccount');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'token'), 'the-token');
  writeFileSync(path.join(dir, 'ca.crt'), 'not a real CA');
  writeFileSync(path.join(dir, 'namespace'), 'system');
  return dir;
}

describe('reaching the Kubernetes API for discovery', () => {
  it('fails as rest.InClusterConfig does outside a cluster', () => {
    expect(() => inClusterEndpoint({ env: {}, serviceAccountDir: '/nonexistent', log: () => {} })).toThrow(
      'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    );
    expect(() =>
      inClusterEndpoint({
        env: { KUBERNETES_SERVICE_HOST: '127.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
        serviceAccountDir: '/nonexistent',
        log: () => {},
      }),
    ).toThrow(`open ${SERVICE_ACCOUNT_DIR}/token: no such file or directory`);
  });

  it("uses the pod's service-account token and CA in cluster, and its namespace for own_namespace", async () => {
    const serviceAccountDir = serviceAccountVolume();
    const options = {
      env: { KUBERNETES_SERVICE_HOST: '127.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir,
      log: () => {},
    };
    const config = sd('role: pod\n        namespaces: { own_namespace: true, names: [production] }');
    const kc = kubeConfigFor(config, options, await loadClientNode());
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://127.96.0.1:443',
      caFile: path.join(serviceAccountDir, 'ca.crt'),
    });
    expect(kc.getCurrentUser()?.authProvider?.config?.tokenFile).toBe(path.join(serviceAccountDir, 'token'));
    expect(namespacesFor(config, options)).toEqual(['production', 'system']);
  });

  it('uses api_server with the config’s TLS and authorization', async () => {
    const config = sd(
      'role: endpoints\n        api_server: https://127.96.0.1:6443\n        tls_config: { insecure_skip_verify: true }\n        authorization: { credentials: abc }',
    );
    const kc = kubeConfigFor(
      config,
      { env: {}, serviceAccountDir: '/nonexistent', log: () => {} },
      await loadClientNode(),
    );
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://127.96.0.1:6443', skipTLSVerify: true });
    expect(kc.getCurrentUser()?.token).toBe('abc');
  });
});
