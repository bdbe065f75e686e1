import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../twin/prometheus/config/prometheus-config.ts';
import { labelsFrom, labelsToRecord } from '../../../../twin/prometheus/labels.ts';
import { relabelConfigFrom } from '../../../../twin/prometheus/relabel.ts';
import { sampleLabels } from '../../../../twin/prometheus/scrape/sample-labels.ts';
import { acceptHeader } from '../../../../twin/prometheus/scrape/scrape-loop.ts';
import { populateTarget } from '../../../../twin/prometheus/scrape/scrape-target.ts';

const job = (yaml: string) =>
  parseConfig(`global: { scrape_interval: 15s }\nscrape_configs:\n  - job_name: j\n${yaml}`)
    .scrapeConfigs[0]!;

describe('scrape targets', () => {
  it('fills job, scheme, path, interval and timeout, adds the default port and defaults instance', () => {
    const r = populateTarget({ __address__: '10.0.0.1' }, job('    params: { module: [http_2xx] }\n'));
    expect(r.kind).toBe('active');
    if (r.kind !== 'active') return;
    expect(labelsToRecord(r.target.discoveredLabels)).toEqual({
      __address__: '10.0.0.1',
      __metrics_path__: '/metrics',
      __param_module: 'http_2xx',
      __scheme__: 'http',
      __scrape_interval__: '15s',
      __scrape_timeout__: '10s',
      job: 'j',
    });
    expect(labelsToRecord(r.target.publicLabels)).toEqual({ instance: '10.0.0.1:80', job: 'j' });
    expect(r.target.url).toBe('http://10.0.0.1:80/metrics?module=http_2xx');
  });

  it('lets relabelling change address, scheme, path, params and interval, and drop targets', () => {
    const config = job(
      [
        '    relabel_configs:',
        '      - { source_labels: [__meta_x], regex: "no", action: drop }',
        '      - { target_label: __scheme__, replacement: https }',
        '      - { target_label: __metrics_path__, replacement: /probe }',
        '      - { target_label: __param_target, replacement: a b }',
        '      - { target_label: __scrape_interval__, replacement: 1m }',
      ].join('\n'),
    );
    const r = populateTarget({ __address__: 'h:9', __meta_x: 'yes' }, config);
    if (r.kind !== 'active') throw new Error(r.kind);
    expect(r.target.url).toBe('https://h:9/probe?target=a+b');
    expect(r.target.intervalMs).toBe(60_000);
    expect(labelsToRecord(r.target.labels)).not.toHaveProperty('__meta_x');
    expect(populateTarget({ __address__: 'h:9', __meta_x: 'no' }, config).kind).toBe('dropped');
    const bad = populateTarget(
      { __address__: 'h:9' },
      job('    relabel_configs: [{ target_label: __scrape_timeout__, replacement: 1h }]\n'),
    );
    expect(bad).toMatchObject({
      kind: 'error',
      error: 'scrape timeout cannot be greater than scrape interval ("1h" > "15s")',
    });
  });

  it('attaches target labels to samples, moving clashing exposed labels to exported_*', () => {
    const target = labelsFrom({ job: 'j', instance: 'i', service: 'api' });
    const exposed = [
      { name: '__name__', value: 'x' },
      { name: 'job', value: 'own' },
      { name: 'exported_job', value: 'taken' },
    ];
    expect(labelsToRecord(sampleLabels(exposed, target, false, [])!)).toEqual({
      __name__: 'x',
      exported_exported_job: 'own',
      exported_job: 'taken',
      instance: 'i',
      job: 'j',
      service: 'api',
    });
    expect(labelsToRecord(sampleLabels(exposed, target, true, [])!)).toMatchObject({
      job: 'own',
      service: 'api',
    });
    const drop = [relabelConfigFrom({ source_labels: ['__name__'], regex: 'x', action: 'drop' })];
    expect(sampleLabels(exposed, target, false, drop)).toBeUndefined();
  });

  it('asks for the formats of scrape_protocols with Prometheus weights', () => {
    expect(acceptHeader(['OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText0.0.4'])).toBe(
      'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
    );
  });
});
