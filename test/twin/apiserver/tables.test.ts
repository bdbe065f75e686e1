import { describe, expect, it } from 'vitest';
import { BUILTIN_PRINTERS, formatLabelSelector } from '../../../twin/apiserver/tables/builtin-printers.ts';
import { humanDuration } from '../../../twin/apiserver/tables/human-duration.ts';
import { printerFor, toTable } from '../../../twin/apiserver/tables/table.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();
const pod = (status: any, extra: any = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', creationTimestamp: ago(3600), ...extra.metadata },
  spec: { containers: [{ name: 'a' }, { name: 'b' }], ...extra.spec },
  status,
});
const podCells = (p: any) => BUILTIN_PRINTERS['/Pod']!.cells(p, NOW);

describe('Table printers', () => {
  it('write ages as HumanDuration does', () => {
    expect(
      [45, 150, 1500, 5 * 3600 + 180, 30 * 3600, 3 * 86400 + 4 * 3600, 400 * 86400].map((s) =>
        humanDuration(s * 1000),
      ),
    ).toEqual(['45s', '2m30s', '25m', '5h3m', '30h', '3d4h', '400d']);
  });

  it('compute a pod’s READY, STATUS and RESTARTS as kubectl shows them', () => {
    expect(
      podCells(
        pod({
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [
            { name: 'a', ready: true, restartCount: 0, state: { running: {} } },
            {
              name: 'b',
              ready: false,
              restartCount: 3,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: { terminated: { finishedAt: ago(90) } },
            },
          ],
        }),
      ).slice(1, 5),
    ).toEqual(['1/2', 'CrashLoopBackOff', '3 (90s ago)', '60m']);
    expect(
      podCells(
        pod(
          {
            phase: 'Pending',
            initContainerStatuses: [{ name: 'init', restartCount: 0, state: { running: {} } }],
          },
          { spec: { initContainers: [{ name: 'init' }] } },
        ),
      )[2],
    ).toBe('Init:0/1');
    expect(podCells(pod({ phase: 'Running' }, { metadata: { deletionTimestamp: ago(1) } }))[2]).toBe(
      'Terminating',
    );
    const done = pod({
      phase: 'Succeeded',
      containerStatuses: [
        {
          name: 'a',
          ready: false,
          restartCount: 0,
          state: { terminated: { reason: 'Completed', exitCode: 0 } },
        },
        {
          name: 'b',
          ready: false,
          restartCount: 0,
          state: { terminated: { reason: 'Completed', exitCode: 0 } },
        },
      ],
    });
    expect(podCells(done)[2]).toBe('Completed');
    expect(BUILTIN_PRINTERS['/Pod']!.conditions!(done)).toEqual([
      expect.objectContaining({ type: 'Completed', status: 'True' }),
    ]);
  });

  it('prints Deployments, Services and Nodes with kube-apiserver’s columns', () => {
    const d = {
      metadata: { name: 'web', creationTimestamp: ago(60) },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'web', image: 'web:1' }] } },
      },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(BUILTIN_PRINTERS['apps/Deployment']!.cells(d, NOW)).toEqual([
      'web',
      '2/3',
      3,
      2,
      '60s',
      'web',
      'web:1',
      'app=web',
    ]);
    const svc = {
      metadata: { name: 's', creationTimestamp: ago(10) },
      spec: {
        type: 'ClusterIP',
        clusterIP: '10.0.0.1',
        ports: [{ port: 80, protocol: 'TCP' }],
        selector: { app: 's' },
      },
    };
    expect(BUILTIN_PRINTERS['/Service']!.cells(svc, NOW)).toEqual([
      's',
      'ClusterIP',
      '10.0.0.1',
      '<none>',
      '80/TCP',
      '10s',
      'app=s',
    ]);
    const node = {
      metadata: { name: 'n', creationTimestamp: ago(10), labels: { 'node-role.kubernetes.io/worker': '' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.34.0' } },
    };
    expect(BUILTIN_PRINTERS['/Node']!.cells(node, NOW).slice(0, 5)).toEqual([
      'n',
      'Ready,SchedulingDisabled',
      'worker',
      '10s',
      'v1.34.0',
    ]);
    expect(
      formatLabelSelector({
        matchLabels: { a: 'b' },
        matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['d', 'e'] }],
      }),
    ).toBe('a=b,c notin (d,e)');
  });

  it('prints a CRD’s additionalPrinterColumns (dates as ages), or Name and Age without them', () => {
    const r = {
      group: 'argoproj.io',
      version: 'v1alpha1',
      name: 'rollouts',
      singularName: 'rollout',
      kind: 'Rollout',
      namespaced: true,
      verbs: [],
      shortNames: [],
      categories: [],
      subresources: [],
      custom: {
        crdName: 'rollouts.argoproj.io',
        schema: undefined,
        storage: true,
        additionalPrinterColumns: [
          { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
          { name: 'Status', type: 'string', jsonPath: '.status.phase' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      },
    };
    const table = toTable(
      [
        {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Rollout',
          metadata: { name: 'api', creationTimestamp: ago(120) },
          spec: { replicas: 3 },
          status: { phase: 'Healthy' },
        },
      ],
      printerFor(r as never),
      { now: NOW, includeObject: 'Object', apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' },
    ) as any;
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Desired', 'Status', 'Age']);
    expect(table.rows[0].cells).toEqual(['api', 3, 'Healthy', '2m']);
    expect(table.rows[0].object.kind).toBe('Rollout');
    const plain = printerFor({ ...r, custom: { ...r.custom, additionalPrinterColumns: [] } } as never);
    expect(plain.columns.map((c) => c.name)).toEqual(['Name', 'Age']);
  });
});
