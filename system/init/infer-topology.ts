import type { KubeObject } from '../../kube/object.ts';
import { allocatableOf, INSTANCE_TYPES, type InstanceType } from '../topology/instance-types.ts';
import type { ClusterStorageClass, NodePool, Provisioner, Topology } from '../topology/topology-schema.ts';
import { type Amounts, type PodDemand, podDemands, podRequests } from './pod-demand.ts';

export const ZONE_KEY = 'topology.kubernetes.io/zone';
const ZONE_KEYS = [ZONE_KEY, 'failure-domain.beta.kubernetes.io/zone'];
const HOSTNAME_KEY = 'kubernetes.io/hostname';
/** Node labels every node has already (the topology sets them); they do not make a pool. */
const WELL_KNOWN = new Set([
  ...ZONE_KEYS,
  HOSTNAME_KEY,
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'topology.kubernetes.io/region',
  'node.kubernetes.io/instance-type',
]);
const GPU = 'nvidia.com/gpu';
const DEFAULT_REGION = 'us-east-1';

/** A topology inferred from manifests, with what it inferred and what the user must decide. */
export interface InferredTopology {
  topology: Topology;
  /** One line per pool: which workloads it holds and why it looks as it does. */
  pools: Array<{ pool: NodePool; holds: string[]; why: string }>;
  inferred: string[];
  decide: string[];
}

interface PoolPlan {
  labels: Record<string, string>;
  gpu: boolean;
  demands: PodDemand[];
  taints: NonNullable<NodePool['taints']>;
}

/**
 * Infers the cluster the manifests need (docs/own-system.md, "What `twin init` infers"): zones from
 * zone spread constraints, zone affinities and selectors; a node pool per distinct nodeSelector /
 * required node affinity (GPU pools from extended resources), with the taints every pod of the pool
 * tolerates; instance types and node counts from the pods' requests, required anti-affinity and
 * DaemonSets, sized so that the pods still fit when one zone is lost (the twin has no cluster
 * autoscaler); storage from the StorageClasses and claims.
 */
export function inferTopology(objects: KubeObject[], name: string): InferredTopology {
  const inferred: string[] = [];
  const decide: string[] = [];
  const { demands, notes } = podDemands(objects);
  decide.push(...notes);

  // Zones.
  const zoneValues = new Set<string>();
  let spreadsOverZones = false;
  for (const d of demands) {
    for (const z of zonesNamed(d.spec)) zoneValues.add(z);
    if (usesZoneKey(d.spec)) spreadsOverZones = true;
  }
  let zones: string[];
  let region: string;
  if (zoneValues.size > 0) {
    zones = [...zoneValues].sort();
    region = zones[0]!.replace(/[a-z]$/, '');
    inferred.push(`zones ${zones.join(', ')} (named in node affinities or nodeSelectors; region ${region})`);
    if (zones.some((z) => z.replace(/[a-z]$/, '') !== region))
      decide.push(`the zones named span regions (${zones.join(', ')}): a topology has one region`);
  } else {
    const hinted = regionNamed(objects);
    region = hinted ?? DEFAULT_REGION;
    zones = ['a', 'b', 'c'].map((s) => `${region}${s}`);
    if (hinted) inferred.push(`region ${region} (from the AWS endpoints and ARNs the manifests name)`);
    if (spreadsOverZones)
      inferred.push(
        `3 zones: the workloads spread over ${ZONE_KEY} but name no zone; named ${zones.join(', ')}`,
      );
    decide.push(
      `${hinted ? 'zone names' : 'region and zone names'}: no zone is named in the manifests; the topology says ${zones.join(', ')}: put your cluster's zones there (not every region has zones a to c)`,
    );
  }
  const survivingZones = zones.length > 1 ? zones.length - 1 : 1;

  // Pools.
  const plans = new Map<string, PoolPlan>();
  const daemons = demands.filter((d) => d.everyNode);
  for (const d of demands) {
    if (d.everyNode) continue;
    const labels = poolLabels(d.spec);
    const gpu = (podRequests(d.spec)[GPU] ?? 0) > 0;
    const key = JSON.stringify([Object.entries(labels).sort(), gpu]);
    let plan = plans.get(key);
    if (!plan) {
      plan = { labels, gpu, demands: [], taints: [] };
      plans.set(key, plan);
    }
    plan.demands.push(d);
  }
  for (const plan of plans.values()) plan.taints = commonTaints(plan);
  const pools: InferredTopology['pools'] = [];
  const usedNames = new Set<string>();
  for (const plan of plans.values()) {
    const poolName = uniqueName(poolNameOf(plan), usedNames);
    const overhead = daemonOverhead(daemons, plan);
    const type = chooseInstanceType(plan, overhead, decide);
    const nodesPerZone = nodesNeeded(plan, type, overhead, survivingZones) + (zones.length === 1 ? 1 : 0);
    const pool: NodePool = {
      name: poolName,
      instanceType: type.name,
      nodesPerZone,
      labels: plan.labels,
      taints: plan.taints,
    };
    const holds = plan.demands.map((d) => `${d.source} ×${d.replicas}`);
    const reasons = [
      Object.keys(plan.labels).length > 0
        ? `nodeSelector/affinity ${Object.entries(plan.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`
        : 'pods without a node selector',
      plan.gpu ? `${GPU} requests` : '',
      plan.taints.length > 0
        ? `taints ${plan.taints.map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`).join(', ')} that every pod of the pool tolerates`
        : '',
      `${type.name}: the smallest known type that holds its largest pod twice over`,
      `${nodesPerZone} per zone: its pods fit in ${survivingZones} of ${zones.length} zone(s)${daemons.length > 0 ? ' with the DaemonSets on every node' : ''}`,
    ].filter(Boolean);
    pools.push({ pool, holds, why: reasons.join('; ') });
  }
  if (pools.length === 0) {
    const type = INSTANCE_TYPES.get('m5.large')!;
    pools.push({
      pool: { name: 'general', instanceType: type.name, nodesPerZone: 1, labels: {}, taints: [] },
      holds: [],
      why: 'no workload asks for a node: one small node per zone',
    });
  }
  for (const d of demands) {
    const zoneAnti = requiredAntiAffinityKeys(d).has(ZONE_KEY);
    if (zoneAnti && d.replicas > zones.length)
      decide.push(
        `${d.source}: ${d.replicas} replicas with required pod anti-affinity over zones, but ${zones.length} zones: ${d.replicas - zones.length} stay Pending (as on a cluster)`,
      );
  }

  // Storage.
  const storage = inferStorage(objects, inferred, decide);
  const topology: Topology = {
    apiVersion: 'twin.dev/v1alpha1',
    kind: 'Topology',
    metadata: { name },
    region,
    zones,
    nodePools: pools.map((p) => p.pool),
    ...(storage ? { storage } : {}),
  };
  decide.push(
    `node pools and instance types: inferred from requests (listed in topology.yaml); replace them with your cluster's node groups where they differ`,
  );
  return { topology, pools, inferred, decide };
}

/** The AWS region the manifests' ECR images, AWS endpoints and ARNs name most often. */
function regionNamed(objects: KubeObject[]): string | undefined {
  const text = JSON.stringify(objects);
  const counts = new Map<string, number>();
  for (const m of text.matchAll(
    /\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com|arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-gov)?-[a-z]+-\d):/g,
  )) {
    const r = (m[1] ?? m[2])!;
    counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** Zone names in a pod's nodeSelector and required node affinity. */
function zonesNamed(spec: any): string[] {
  const out: string[] = [];
  for (const k of ZONE_KEYS) if (spec?.nodeSelector?.[k]) out.push(spec.nodeSelector[k]);
  for (const term of spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms ?? [])
    for (const e of term.matchExpressions ?? [])
      if (ZONE_KEYS.includes(e.key) && e.operator === 'In') out.push(...(e.values ?? []));
  for (const p of spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    for (const e of p.preference?.matchExpressions ?? [])
      if (ZONE_KEYS.includes(e.key) && e.operator === 'In') out.push(...(e.values ?? []));
  return out;
}

function usesZoneKey(spec: any): boolean {
  if ((spec?.topologySpreadConstraints ?? []).some((c: any) => ZONE_KEYS.includes(c.topologyKey)))
    return true;
  const terms = [
    ...(spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map(
      (p: any) => p.podAffinityTerm,
    ),
  ];
  return terms.some((t: any) => ZONE_KEYS.includes(t?.topologyKey));
}

/** The node labels a pod insists on: its nodeSelector and the In expressions of its first required node affinity term. */
function poolLabels(spec: any): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {}))
    if (!WELL_KNOWN.has(k)) labels[k] = String(v);
  const term =
    spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0];
  for (const e of term?.matchExpressions ?? []) {
    if (WELL_KNOWN.has(e.key) || labels[e.key] !== undefined) continue;
    if (e.operator === 'In' && e.values?.length) labels[e.key] = e.values[0];
    else if (e.operator === 'Exists') labels[e.key] = 'true';
  }
  return labels;
}

/** Taints every pod of a labelled pool tolerates (what keeps other pods off such a pool). */
function commonTaints(plan: PoolPlan): PoolPlan['taints'] {
  if (Object.keys(plan.labels).length === 0 && !plan.gpu) return [];
  const candidates = new Map<string, PoolPlan['taints'][number]>();
  for (const t of plan.demands[0]!.spec?.tolerations ?? []) {
    if (!t.key || t.key.startsWith('node.kubernetes.io/') || t.key.startsWith('node-role.kubernetes.io/'))
      continue;
    const effects = t.effect ? [t.effect] : ['NoSchedule'];
    for (const effect of effects) {
      if (effect !== 'NoSchedule' && effect !== 'NoExecute') continue;
      const taint = {
        key: t.key,
        ...(t.operator !== 'Exists' && t.value ? { value: String(t.value) } : {}),
        effect,
      } as PoolPlan['taints'][number];
      candidates.set(`${t.key}:${effect}`, taint);
    }
  }
  return [...candidates.values()].filter((taint) =>
    plan.demands.every((d) =>
      (d.spec?.tolerations ?? []).some(
        (t: any) =>
          (t.operator === 'Exists' && (!t.key || t.key === taint.key)) ||
          (t.key === taint.key && (t.value ?? '') === (taint.value ?? '')) ||
          false,
      ),
    ),
  );
}

function poolNameOf(plan: PoolPlan): string {
  const values = Object.values(plan.labels)
    .map((v) => v.toLowerCase().replace(/[^a-z0-9-]+/g, '-'))
    .filter((v) => v && v !== 'true');
  const base = values.length > 0 ? values.join('-') : plan.gpu ? 'gpu' : 'general';
  return plan.gpu && !base.includes('gpu') ? `gpu-${base}` : base;
}

function uniqueName(name: string, used: Set<string>): string {
  let n = name.replace(/^-+|-+$/g, '').slice(0, 50) || 'pool';
  for (let i = 2; used.has(n); i++) n = `${name.slice(0, 47)}-${i}`;
  used.add(n);
  return n;
}

/** Requests of the DaemonSets whose pods land on the pool's nodes (selector and tolerations allow it). */
function daemonOverhead(daemons: PodDemand[], plan: PoolPlan): Amounts {
  const total: Amounts = { pods: 0 };
  for (const d of daemons) {
    const sel = d.spec?.nodeSelector ?? {};
    if (!Object.entries(sel).every(([k, v]) => WELL_KNOWN.has(k) || plan.labels[k] === v)) continue;
    const tolerated = plan.taints.every((taint) =>
      (d.spec?.tolerations ?? []).some(
        (t: any) =>
          (t.operator === 'Exists' && (!t.key || t.key === taint.key)) ||
          (t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
      ),
    );
    if (!tolerated) continue;
    for (const [k, v] of Object.entries(podRequests(d.spec))) total[k] = (total[k] ?? 0) + v;
    total['pods']! += 1;
  }
  return total;
}

const GENERAL = ['m5.large', 'm5.xlarge', 'm5.2xlarge', 'm5.4xlarge', 'm5.8xlarge'];
const MEMORY = ['r5.large', 'r5.xlarge', 'r5.2xlarge', 'm5.8xlarge'];
const GPUS = ['g4dn.xlarge', 'g4dn.2xlarge', 'g4dn.4xlarge', 'g4dn.12xlarge', 'p4d.24xlarge'];

function chooseInstanceType(plan: PoolPlan, overhead: Amounts, decide: string[]): InstanceType {
  const pods = plan.demands.map((d) => podRequests(d.spec));
  const largest = {
    cpu: Math.max(0, ...pods.map((p) => p['cpu'] ?? 0)),
    memory: Math.max(0, ...pods.map((p) => p['memory'] ?? 0)),
    gpu: Math.max(0, ...pods.map((p) => p[GPU] ?? 0)),
  };
  const totalCpu = plan.demands.reduce((a, d) => a + (podRequests(d.spec)['cpu'] ?? 0) * d.replicas, 0);
  const totalMem = plan.demands.reduce((a, d) => a + (podRequests(d.spec)['memory'] ?? 0) * d.replicas, 0);
  const family = plan.gpu ? GPUS : totalMem / Math.max(totalCpu, 1) > (6 * 2 ** 30) / 1000 ? MEMORY : GENERAL;
  const types = family.map((n) => INSTANCE_TYPES.get(n)!);
  const fits = (t: InstanceType, times: number) => {
    const a = allocatableOf(t);
    return (
      a.cpuMillis - (overhead['cpu'] ?? 0) >= largest.cpu * times &&
      a.memoryBytes - (overhead['memory'] ?? 0) >= largest.memory * times &&
      a.gpus >= largest.gpu
    );
  };
  const chosen = types.find((t) => fits(t, 2)) ?? types.find((t) => fits(t, 1));
  if (chosen) return chosen;
  const biggest = types[types.length - 1]!;
  decide.push(
    `no known instance type holds the largest pod of ${plan.demands.map((d) => d.source).join(', ')} (cpu ${largest.cpu}m, memory ${Math.ceil(largest.memory / 2 ** 20)}Mi${largest.gpu ? `, ${largest.gpu} GPU` : ''}): the topology says ${biggest.name}; those pods stay Pending until you name a larger type`,
  );
  return biggest;
}

/** Topology keys of a pod's required anti-affinity terms that select its own pods. */
function requiredAntiAffinityKeys(d: PodDemand): Set<string> {
  const keys = new Set<string>();
  for (const t of d.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    const match = t.labelSelector?.matchLabels ?? {};
    if (Object.entries(match).every(([k, v]) => d.labels[k] === v)) keys.add(t.topologyKey);
  }
  return keys;
}

/**
 * Nodes per zone for a pool: first-fit-decreasing of one zone's share of the pods (their replicas
 * over the zones left after losing one), one pod of a template per node where it has required
 * anti-affinity on the host name.
 */
function nodesNeeded(plan: PoolPlan, type: InstanceType, overhead: Amounts, zones: number): number {
  const a = allocatableOf(type);
  const cap = {
    cpu: a.cpuMillis - (overhead['cpu'] ?? 0),
    memory: a.memoryBytes - (overhead['memory'] ?? 0),
    pods: a.pods - (overhead['pods'] ?? 0),
    gpu: a.gpus,
  };
  const items: Array<{ r: Amounts; template: number; onePerNode: boolean }> = [];
  plan.demands.forEach((d, template) => {
    const r = podRequests(d.spec);
    const onePerNode = requiredAntiAffinityKeys(d).has(HOSTNAME_KEY);
    for (let i = 0; i < Math.ceil(d.replicas / zones); i++) items.push({ r, template, onePerNode });
  });
  items.sort((x, y) => (y.r['cpu'] ?? 0) - (x.r['cpu'] ?? 0) || (y.r['memory'] ?? 0) - (x.r['memory'] ?? 0));
  const nodes: Array<{ cpu: number; memory: number; pods: number; gpu: number; templates: Set<number> }> = [];
  for (const item of items) {
    const fitsOn = (n: (typeof nodes)[number]) =>
      n.cpu >= (item.r['cpu'] ?? 0) &&
      n.memory >= (item.r['memory'] ?? 0) &&
      n.gpu >= (item.r[GPU] ?? 0) &&
      n.pods >= 1 &&
      !(item.onePerNode && n.templates.has(item.template));
    let node = nodes.find(fitsOn);
    if (!node) {
      node = { ...cap, templates: new Set() };
      nodes.push(node);
      if (!fitsOn(node)) continue; // larger than a node: reported by chooseInstanceType
    }
    node.cpu -= item.r['cpu'] ?? 0;
    node.memory -= item.r['memory'] ?? 0;
    node.gpu -= item.r[GPU] ?? 0;
    node.pods -= 1;
    node.templates.add(item.template);
  }
  return Math.max(1, nodes.length);
}

const PROVISIONER_TOPOLOGY: Record<string, Provisioner['volumeTopology']> = {
  'ebs.csi.aws.com': 'zone',
  'kubernetes.io/aws-ebs': 'zone',
  'efs.csi.aws.com': 'none',
  'rancher.io/local-path': 'node',
  'kubernetes.io/no-provisioner': 'node',
};

/** The cluster's provisioners and built-in classes: those the manifests' StorageClasses and claims need. */
function inferStorage(
  objects: KubeObject[],
  inferred: string[],
  decide: string[],
): Topology['storage'] | undefined {
  const classes = objects.filter((o) => o.kind === 'StorageClass');
  const claimClasses = new Set<string | null>();
  for (const o of objects) {
    if (o.kind === 'PersistentVolumeClaim') claimClasses.add(o.spec?.storageClassName ?? null);
    for (const t of o.spec?.volumeClaimTemplates ?? []) claimClasses.add(t.spec?.storageClassName ?? null);
    if (o.kind === 'Cluster' && o.apiVersion.startsWith('postgresql.cnpg.io/'))
      claimClasses.add(o.spec?.storage?.storageClass ?? null);
    if (o.apiVersion?.startsWith('redis.redis.opstreelabs.in/') && o.spec?.storage)
      claimClasses.add(o.spec.storage.volumeClaimTemplate?.spec?.storageClassName ?? null);
  }
  if (classes.length === 0 && claimClasses.size === 0) return undefined;
  const provisioners = new Map<string, Provisioner>();
  const clusterClasses: ClusterStorageClass[] = [];
  const addProvisioner = (name: string) => {
    if (provisioners.has(name)) return;
    const topo = PROVISIONER_TOPOLOGY[name];
    if (!topo)
      decide.push(
        `provisioner ${name}: not one the twin knows; the topology says its volumes are zonal (volumeTopology: zone)`,
      );
    // The in-tree EBS plugin is served through CSI migration by the EBS CSI driver.
    const served = name === 'kubernetes.io/aws-ebs' ? 'ebs.csi.aws.com' : name;
    provisioners.set(served, { name: served, volumeTopology: topo ?? 'zone' });
  };
  for (const c of classes) addProvisioner(String(c['provisioner']));
  const defined = new Set(classes.map((c) => c.metadata.name));
  const hasDefault = classes.some(
    (c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true',
  );
  for (const cls of claimClasses) {
    if (cls === null) {
      if (hasDefault || clusterClasses.some((c) => c.default)) continue;
      clusterClasses.push(gp2(true));
      addProvisioner('kubernetes.io/aws-ebs');
      decide.push(
        'claims that name no StorageClass: the topology gives the cluster a default gp2 class (EKS creates gp2; since 1.30 it no longer marks it default): say whether your cluster has a default class',
      );
    } else if (!defined.has(cls) && !clusterClasses.some((c) => c.name === cls)) {
      if (cls === 'gp2') clusterClasses.push(gp2(false));
      else {
        clusterClasses.push({
          name: cls,
          provisioner: 'ebs.csi.aws.com',
          reclaimPolicy: 'Delete',
          volumeBindingMode: 'WaitForFirstConsumer',
        });
        decide.push(
          `StorageClass ${cls}: claims name it and the manifests do not define it; the topology has the cluster provide it through ebs.csi.aws.com`,
        );
      }
      addProvisioner(cls === 'gp2' ? 'kubernetes.io/aws-ebs' : 'ebs.csi.aws.com');
    }
  }
  inferred.push(
    `storage: provisioners ${[...provisioners.keys()].join(', ')}${clusterClasses.length ? `; classes the cluster provides: ${clusterClasses.map((c) => c.name).join(', ')}` : ''}`,
  );
  return {
    provisioners: [...provisioners.values()],
    ...(clusterClasses.length > 0 ? { storageClasses: clusterClasses } : {}),
  };
}

function gp2(isDefault: boolean): ClusterStorageClass {
  return {
    name: 'gp2',
    provisioner: 'kubernetes.io/aws-ebs',
    default: isDefault,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    parameters: { type: 'gp2', fsType: 'ext4' },
  };
}
