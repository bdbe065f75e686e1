import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nightly } from '../../../chaos/nightly.ts';
import { loadExperiment } from '../../../harness/chaos/experiment.ts';
import { describeTolerance, withinTolerance } from '../../../harness/chaos/tolerance.ts';
import { REPO_ROOT } from '../../../system/repo-root.ts';

const dir = path.join(REPO_ROOT, 'chaos', 'experiments');
const scratch = mkdtempSync(path.join(tmpdir(), 'chaos-experiment-'));
const write = (name: string, text: string) => {
  const f = path.join(scratch, name);
  writeFileSync(f, text);
  return f;
};
const base = (object: string, rollbacks = '') => `
title: t
system: ai-platform
steady-state-hypothesis:
  title: h
  probes:
    - { type: probe, name: p, tolerance: 200, provider: { type: http, ingress: production/ai-platform } }
method:
  - type: action
    name: a
    provider:
      type: chaos-mesh
      object: ${object}
${rollbacks}`;

describe('chaos experiments as data (harness/chaos/experiment.ts)', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))(
    'chaos/experiments/%s loads and is in the suite',
    async (f) => {
      const e = await loadExperiment(path.join(dir, f), REPO_ROOT);
      expect(e.name).toBe(f.replace('.yaml', ''));
      expect(nightly).toContainEqual({ experiment: e.name });
    },
  );

  it('checks Chaos Mesh objects as the API server of a cluster with the add-on would', async () => {
    const bad = write(
      'bad.yaml',
      base(
        '{ apiVersion: chaos-mesh.org/v1alpha1, kind: NetworkChaos, metadata: { name: d, namespace: production }, spec: { action: slow, mode: all, selector: {}, delay: { latency: 1s, jiter: 2ms } } }',
      ),
    );
    const err = await loadExperiment(bad, scratch).catch((e: Error) => e);
    expect(String(err)).toContain(
      'bad.yaml: method[0].provider.object: NetworkChaos d: spec.action: Unsupported value: "slow"',
    );
    expect(String(err)).toContain('spec.delay.jiter');
  });

  it('names the file and the field of a malformed experiment, an unknown recover and a missing add-on', async () => {
    await expect(
      loadExperiment(write('m.yaml', 'title: t\nsystem: ai-platform\nmethod: []\n'), scratch),
    ).rejects.toThrow('m.yaml: method:');
    const ok =
      '{ apiVersion: chaos-mesh.org/v1alpha1, kind: PodChaos, metadata: { name: k, namespace: production }, spec: { action: pod-kill, mode: one, selector: {} } }';
    await expect(
      loadExperiment(
        write(
          'r.yaml',
          base(
            ok,
            'rollbacks:\n  - { type: action, name: r, provider: { type: chaos-mesh, recover: other } }\n',
          ),
        ),
        scratch,
      ),
    ).rejects.toThrow(
      'r.yaml: rollbacks[0].provider.recover: no chaos object named "other" is injected before it (injected: k)',
    );
    await expect(
      loadExperiment(write('n.yaml', base(ok).replace('system: ai-platform', 'system: tonebridge')), scratch),
    ).rejects.toThrow('its Chaos Mesh objects need the chaos-mesh add-on in infra/tonebridge/addons.yaml');
    await expect(
      loadExperiment(
        write('k.yaml', base('{ apiVersion: v1, kind: Pod, metadata: { name: x }, spec: {} }')),
        scratch,
      ),
    ).rejects.toThrow('v1 Pod is not a Chaos Mesh chaos object');
  });
});

describe('tolerances, as Chaos Toolkit judges them', () => {
  it('scalars, lists, ranges over a target, regexes', () => {
    expect(withinTolerance(200, { value: 200 })).toBe(true);
    expect(withinTolerance(200, { value: 503 })).toBe(false);
    expect(withinTolerance([200, 204], { value: 204 })).toBe(true);
    expect(withinTolerance({ type: 'range', range: [0, 0.01] }, { value: 0.01 })).toBe(true);
    expect(withinTolerance({ type: 'range', range: [0, 0.01] }, { value: null })).toBe(false);
    const http = { value: 200, parts: { latency: 450, body: '{"ok":true}' } };
    expect(withinTolerance({ type: 'range', range: [0, 400], target: 'latency' }, http)).toBe(false);
    expect(withinTolerance({ type: 'regex', pattern: '"ok":true', target: 'body' }, http)).toBe(true);
    expect(withinTolerance(undefined, { value: null })).toBe(false);
    expect(describeTolerance({ type: 'range', range: [0, 400], target: 'latency' })).toBe(
      'in [0, 400] (latency)',
    );
  });
});
