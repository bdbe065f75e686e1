import { describe, expect, it } from 'vitest';
import { podRequests } from '../../../twin/scheduler/resource-requests.ts';
import { pod } from './fixtures.ts';

const MI = 2 ** 20;
const c = (name: string, requests: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  name,
  resources: { requests },
  ...extra,
});

describe('podRequests', () => {
  it('sums containers', () => {
    const p = pod('p', {
      spec: { containers: [c('a', { cpu: '250m', memory: '64Mi' }), c('b', { cpu: '1', memory: '1Gi' })] },
    });
    expect(podRequests(p)).toEqual({ cpu: 1250, memory: 1088 * MI });
  });

  it('takes the largest init container when it exceeds the containers, resource by resource', () => {
    const p = pod('p', {
      spec: {
        initContainers: [c('i1', { cpu: '2', memory: '10Mi' }), c('i2', { cpu: '100m', memory: '20Mi' })],
        containers: [c('a', { cpu: '500m', memory: '100Mi' })],
      },
    });
    expect(podRequests(p)).toEqual({ cpu: 2000, memory: 100 * MI });
  });

  it('adds restartable init containers (sidecars) and pod overhead', () => {
    const p = pod('p', {
      spec: {
        initContainers: [
          c('proxy', { cpu: '100m' }, { restartPolicy: 'Always' }),
          c('migrate', { cpu: '1' }),
        ],
        containers: [c('a', { cpu: '500m' })],
        overhead: { cpu: '250m', memory: '120Mi' },
      },
    });
    // migrate runs beside the proxy (1100m) > containers + proxy (600m).
    expect(podRequests(p)).toEqual({ cpu: 1350, memory: 120 * MI });
  });

  it('defaults requests to limits and counts extended resources', () => {
    const p = pod('p', {
      spec: { containers: [{ name: 'a', resources: { limits: { cpu: '2', 'nvidia.com/gpu': '1' } } }] },
    });
    expect(podRequests(p)).toEqual({ cpu: 2000, 'nvidia.com/gpu': 1 });
  });

  it('assumes 100m and 200Mi for scoring when a container states nothing', () => {
    const p = pod('p', { spec: { containers: [{ name: 'a' }] } });
    expect(podRequests(p)).toEqual({});
    expect(podRequests(p, true)).toEqual({ cpu: 100, memory: 200 * MI });
  });
});
