import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { KubeObject } from '../../../kube/object.ts';
import { inferTopology } from '../../../system/init/infer-topology.ts';
import { renderKustomization } from '../../../system/render/index.ts';
import { parseTopology, topologyToNodes } from '../../../system/topology/topology.ts';
import { podPlacement } from '../../../twin/cnpg/cluster-controller.ts';
import { poolerDeployment, poolerSpec } from '../../../twin/cnpg/pooler-controller.ts';
import { ROLES, redisClusterSpec, roleStatefulSet } from '../../../twin/redis-operator/redis-cluster-spec.ts';
import { schedule } from '../../../twin/scheduler/index.ts';

const hasKustomize = ['kubectl', 'kustomize'].some((tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

/**
 * The pods the controllers of the twin would make from the manifests, in apply order: workloads'
 * templates × replicas, CloudNativePG instances with the Cluster controller's placement, Pooler
 * Deployments and the Redis operator's StatefulSets as the twin's controllers write them.
 * Claims are left out (the volume plugins are checked by the storage tests): this checks the nodes.
 */
function podsOf(objects: KubeObject[]): { pods: KubeObject[]; daemons: KubeObject[] } {
  const pods: KubeObject[] = [];
  const daemons: KubeObject[] = [];
  const hpaMin = new Map<string, number>();
  for (const o of objects)
    if (o.kind === 'HorizontalPodAutoscaler')
      hpaMin.set(`${o.metadata.namespace}/${o.spec.scaleTargetRef.name}`, o.spec.minReplicas ?? 1);
  const make = (owner: string, namespace: string, template: any, n: number) => {
    for (let i = 0; i < n; i++) {
      const spec = structuredClone(template?.spec ?? {});
      spec.volumes = (spec.volumes ?? []).filter((v: any) => !v.persistentVolumeClaim && !v.ephemeral);
      pods.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${owner}-${i}`,
          namespace,
          labels: template?.metadata?.labels ?? {},
          uid: `${owner}-${i}`,
        },
        spec,
      });
    }
  };
  for (const o of objects) {
    const ns = o.metadata.namespace ?? 'default';
    const replicas = Math.max(o.spec?.replicas ?? 1, hpaMin.get(`${ns}/${o.metadata.name}`) ?? 0);
    if (['Deployment', 'StatefulSet', 'ReplicaSet', 'Rollout'].includes(o.kind))
      make(`${o.kind}-${o.metadata.name}`, ns, o.spec.template, replicas);
    else if (o.kind === 'DaemonSet')
      daemons.push({
        ...o.spec.template,
        metadata: { ...o.spec.template.metadata, name: o.metadata.name, namespace: ns },
      });
    else if (o.kind === 'Job') make(`job-${o.metadata.name}`, ns, o.spec.template, o.spec.parallelism ?? 1);
    else if (o.kind === 'CronJob')
      make(`cronjob-${o.metadata.name}`, ns, o.spec.jobTemplate.spec.template, 1);
    else if (o.kind === 'Cluster' && o.apiVersion.startsWith('postgresql.cnpg.io/'))
      make(
        `cnpg-${o.metadata.name}`,
        ns,
        {
          metadata: { labels: { 'cnpg.io/cluster': o.metadata.name, 'cnpg.io/podRole': 'instance' } },
          spec: {
            containers: [
              { name: 'postgres', image: 'x', ...(o.spec.resources ? { resources: o.spec.resources } : {}) },
            ],
            ...podPlacement(o),
          },
        },
        o.spec.instances ?? 1,
      );
    else if (o.kind === 'Pooler' && o.apiVersion.startsWith('postgresql.cnpg.io/')) {
      const d = poolerDeployment(o, poolerSpec(o), 'auth');
      make(`pooler-${o.metadata.name}`, ns, d.spec.template, d.spec.replicas ?? 1);
    } else if (o.kind === 'RedisCluster')
      for (const role of ROLES) {
        const sts = roleStatefulSet(o, redisClusterSpec(o), role);
        make(`redis-${sts.metadata.name}`, ns, sts.spec.template, sts.spec.replicas);
      }
  }
  return { pods, daemons };
}

describe.skipIf(!hasKustomize)(
  'twin init on the seed systems’ production overlays (needs kubectl or kustomize)',
  () => {
    for (const system of ['ai-platform', 'lambda-microservice', 'tonebridge']) {
      it(`${system}: every pod of the production overlay schedules on the inferred topology`, async () => {
        const rendered = await renderKustomization(`infra/${system}/k8s/overlays/production`);
        const objects = rendered.map((r) => r.object);
        const inferred = inferTopology(objects, `${system}-production`);
        // The file twin init writes, read back as the harness reads it.
        const topology = parseTopology(stringify(inferred.topology), 'topology.yaml');
        const nodes = topologyToNodes(topology);
        const { pods, daemons } = podsOf(objects);
        expect(pods.length).toBeGreaterThan(3);
        const placed: KubeObject[] = [];
        // DaemonSet pods first, one per node that admits them (the DaemonSet controller pins each to its node).
        for (const d of daemons)
          for (const node of nodes) {
            const pod = {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: {
                ...d.metadata,
                name: `${d.metadata.name}-${node.metadata.name}`,
                uid: `${d.metadata.name}-${node.metadata.name}`,
              },
              spec: structuredClone(d.spec),
            };
            const r = schedule(pod, [node], placed);
            if ('nodeName' in r) placed.push({ ...pod, spec: { ...pod.spec, nodeName: r.nodeName } });
          }
        const unschedulable: string[] = [];
        for (const pod of pods) {
          const r = schedule(pod, nodes, placed);
          if ('nodeName' in r) placed.push({ ...pod, spec: { ...pod.spec, nodeName: r.nodeName } });
          else unschedulable.push(`${pod.metadata.namespace}/${pod.metadata.name}: ${r.unschedulable}`);
        }
        expect(unschedulable).toEqual([]);
        // It says what it could not infer: the zones, unless the manifests name them (lambda-microservice's
        // zone affinities do), in which case it says where it found them.
        const zonesFound = inferred.inferred.some((l) =>
          l.includes('named in node affinities or nodeSelectors'),
        );
        expect(zonesFound || inferred.decide.some((l) => l.includes('zone'))).toBe(true);
        if (system === 'lambda-microservice') expect(zonesFound).toBe(true);
        expect(inferred.decide.some((l) => l.includes('node pools and instance types'))).toBe(true);
      });
    }

    it('infers zones, pools, taints and GPU pools from what the pods ask for', () => {
      const objects: KubeObject[] = [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'trainer', namespace: 'ml' },
          spec: {
            replicas: 2,
            template: {
              metadata: { labels: { app: 'trainer' } },
              spec: {
                nodeSelector: { pool: 'gpu' },
                tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
                affinity: {
                  nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                      nodeSelectorTerms: [
                        {
                          matchExpressions: [
                            {
                              key: 'topology.kubernetes.io/zone',
                              operator: 'In',
                              values: ['eu-west-1b', 'eu-west-1a'],
                            },
                          ],
                        },
                      ],
                    },
                  },
                },
                containers: [
                  {
                    name: 't',
                    image: 'x',
                    resources: { limits: { 'nvidia.com/gpu': 1, cpu: '2', memory: '8Gi' } },
                  },
                ],
              },
            },
          },
        },
      ];
      const { topology } = inferTopology(objects, 'ml');
      expect(topology.region).toBe('eu-west-1');
      expect(topology.zones).toEqual(['eu-west-1a', 'eu-west-1b']);
      expect(topology.nodePools).toHaveLength(1);
      const pool = topology.nodePools[0]!;
      expect(pool.labels).toEqual({ pool: 'gpu' });
      expect(pool.taints).toEqual([{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }]);
      expect(pool.instanceType).toMatch(/^g4dn\./);
      // Two replicas must fit in the one zone left after losing the other.
      expect(pool.nodesPerZone).toBeGreaterThanOrEqual(1);
    });
  },
);
