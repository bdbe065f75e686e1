import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../../../../twin/prometheus/config/prometheus-config.ts';
import { readBase } from '../../../infra/manifests.ts';

const PROMTOOL = '/usr/bin/promtool';

/** Error texts Prometheus 2.42 and 2.54 give alike (static and file discovery only). */
const BAD_CONFIGS: Record<string, string> = {
  'unknown global field': 'global:\n  scrape_intervl: 15s\n',
  'unknown scrape config field': 'scrape_configs:\n  - job_name: a\n    foo: 1\n',
  'two unknown fields': 'scrape_configs:\n  - foo: 1\n    job_name: a\n    bar: 2\n',
  'unknown static config field':
    'scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [a:1]\n        foo: 1\n',
  'unknown relabel field':
    'scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: keep\n        foo: 1\n',
  'unknown file_sd field':
    'scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [x.json]\n        foo: 1\n',
  'unknown top-level field': 'bogus: 1\n',
  'unknown action': 'scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: bogus\n',
  'timeout above interval':
    'scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n',
  'duplicate job': 'scrape_configs:\n  - job_name: a\n  - job_name: a\n',
  'replace without target':
    'scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: replace\n        source_labels: [a]\n',
  'labeldrop with more':
    'scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: labeldrop\n        regex: x\n        target_label: y\n',
  'hashmod without modulus':
    'scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        target_label: y\n',
  'bad duration': 'scrape_configs:\n  - job_name: a\n    scrape_interval: 5x\n',
  'list for a string': 'global:\n  scrape_interval: [1]\n',
  'not a bool': 'scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n',
  'global timeout above interval': 'global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n',
};

describe('prometheus.yml', () => {
  it('reads the AI platform production config as it is', () => {
    const cm = readBase().find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-config')!;
    const config = parseConfig((cm as any).data['prometheus.yml']);
    expect(config.global.scrapeIntervalMs).toBe(15_000);
    expect(config.global.scrapeTimeoutMs).toBe(10_000);
    expect(config.scrapeConfigs.map((s) => [s.jobName, s.kubernetesSdConfigs[0]?.role])).toEqual([
      ['kubernetes-service-endpoints', 'endpoints'],
      ['kubernetes-pods', 'pod'],
    ]);
    const endpoints = config.scrapeConfigs[0]!;
    expect(endpoints.metricsPath).toBe('/metrics');
    expect(endpoints.honorTimestamps).toBe(true);
    expect(endpoints.relabelConfigs.map((r) => r.action)).toContain('keep');
    expect(endpoints.relabelConfigs.find((r) => r.targetLabel === 'service')!.sourceLabels).toEqual([
      '__meta_kubernetes_service_name',
    ]);
  });

  it('rejects a discovery mechanism the twin does not implement, naming it', () => {
    expect(() =>
      parseConfig('scrape_configs:\n  - job_name: a\n    consul_sd_configs:\n      - server: x\n'),
    ).toThrow(/consul_sd_configs are not implemented by the twin's Prometheus/);
  });

  it('validates kubernetes_sd_configs as Prometheus does', () => {
    const k = (body: string) =>
      `scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - ${body}\n`;
    expect(() => parseConfig(k('namespaces: { names: [a] }'))).toThrow(
      'role missing (one of: pod, service, endpoints, endpointslice, node, ingress)',
    );
    expect(() => parseConfig(k('role: pods'))).toThrow('unknown Kubernetes SD role "pods"');
    expect(() => parseConfig(k('role: pod\n        bearer_token: x'))).toThrow(
      "to use custom HTTP client configuration please provide the 'api_server' URL explicitly",
    );
    expect(() => parseConfig(k('role: pod\n        selectors: [{ role: service, label: a=b }]'))).toThrow(
      'pod role supports only pod, node selectors',
    );
    expect(() => parseConfig(k('role: pod\n        foo: 1'))).toThrow(
      'field foo not found in type kubernetes.plain',
    );
    const ok = parseConfig(
      k(
        'role: endpoints\n        api_server: https://10.0.0.1\n        tls_config: { insecure_skip_verify: true }\n        namespaces: { own_namespace: true }',
      ),
    );
    expect(ok.scrapeConfigs[0]!.kubernetesSdConfigs[0]).toMatchObject({
      role: 'endpoints',
      apiServer: 'https://10.0.0.1',
      namespaces: { ownNamespace: true, names: [] },
    });
  });

  it('says which file it could not open', async () => {
    await expect(loadConfigFile('/nonexistent/prometheus.yml')).rejects.toThrow(
      'open /nonexistent/prometheus.yml: no such file or directory',
    );
  });

  describe.skipIf(!existsSync(PROMTOOL))(
    'errors worded as promtool check config words them (needs /usr/bin/promtool)',
    () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'promtool-'));
      for (const [name, text] of Object.entries(BAD_CONFIGS)) {
        it(name, async () => {
          const file = path.join(dir, 'p.yml');
          writeFileSync(file, text);
          let out = '';
          try {
            execFileSync(PROMTOOL, ['check', 'config', file], { encoding: 'utf8', stdio: 'pipe' });
          } catch (err) {
            out = String((err as { stdout: string; stderr: string }).stderr);
          }
          const expected = out
            .split('\n')
            .filter((l) => l.trim() !== '' && !l.startsWith('Checking'))
            .map((l) => l.replace(/^\s+FAILED: /, '').trimEnd())
            .join('\n');
          expect(expected).toMatch(/^parsing YAML file/);
          await expect(loadConfigFile(file)).rejects.toThrow(expected);
        });
      }
    },
  );

  it('keeps the defaults Prometheus documents', () => {
    const c = parseConfig('scrape_configs:\n  - job_name: x\n    static_configs: [{ targets: ["a:1"] }]\n');
    expect(c.global).toMatchObject({
      scrapeIntervalMs: 60_000,
      scrapeTimeoutMs: 10_000,
      evaluationIntervalMs: 60_000,
    });
    expect(c.scrapeConfigs[0]).toMatchObject({
      scheme: 'http',
      metricsPath: '/metrics',
      honorLabels: false,
      honorTimestamps: true,
      scrapeIntervalMs: 60_000,
      scrapeTimeoutMs: 10_000,
    });
    // The YAML 1.1 booleans Go's yaml.v2 reads.
    expect(
      parseConfig('scrape_configs:\n  - job_name: x\n    honor_labels: yes\n').scrapeConfigs[0]!.honorLabels,
    ).toBe(true);
  });
});
