import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import { loadTopology, parseTopology, topologyToNodes } from '../../../system/topology/topology.ts';
import { PRODUCTION_TOPOLOGY } from '../../twin/scheduler/fixtures.ts';

function errorOf(text: string, path = 'infra/x/topology.yaml'): string {
  try {
    parseTopology(text, path);
  } catch (e) {
    expect(isTwinError(e, 'TWIN_TOPOLOGY_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a TWIN_TOPOLOGY_INVALID error');
}

const withPool = (
  pool: string,
  zones = '[ap-northeast-1a, ap-northeast-1c]',
) => `apiVersion: twin.dev/v1alpha1
kind: Topology
metadata: { name: t }
region: ap-northeast-1
zones: ${zones}
nodePools:
  - name: general
    instanceType: t3.large
    nodesPerZone: 1
${pool}`;

describe('parseTopology', () => {
  it('parses the topology format', () => {
    const t = parseTopology(PRODUCTION_TOPOLOGY, 'topology.yaml');
    expect(t.metadata.name).toBe('ai-platform-production');
    expect(t.nodePools.map((p) => p.name)).toEqual(['general', 'gpu']);
    expect(t.nodePools[1]!.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }]);
  });

  it('names the field of an unknown instance type and lists known ones', () => {
    const msg = errorOf(withPool('  - name: gpu\n    instanceType: g9.mega\n    nodesPerZone: 1\n'));
    expect(msg).toMatch(
      /^infra\/x\/topology\.yaml: nodePools\[1\]\.instanceType: unknown instance type "g9\.mega"; known types include t3\.large/,
    );
  });

  it('rejects a pool zone outside the topology', () => {
    const msg = errorOf(
      withPool('  - name: gpu\n    instanceType: g4dn.xlarge\n    nodes: 2\n    zones: [ap-northeast-1d]\n'),
    );
    expect(msg).toBe(
      'infra/x/topology.yaml: nodePools[1].zones[0]: zone "ap-northeast-1d" is not one of the topology\'s zones (ap-northeast-1a, ap-northeast-1c)',
    );
  });

  it('reads the cluster’s storage: provisioners and built-in classes, each named once', () => {
    const storage = `storage:
  provisioners:
    - { name: ebs.csi.aws.com, volumeTopology: zone }
  storageClasses:
    - { name: gp2, provisioner: kubernetes.io/aws-ebs, default: true, volumeBindingMode: WaitForFirstConsumer }
`;
    expect(parseTopology(withPool(storage), 't.yaml').storage).toEqual({
      provisioners: [{ name: 'ebs.csi.aws.com', volumeTopology: 'zone' }],
      storageClasses: [
        {
          name: 'gp2',
          provisioner: 'kubernetes.io/aws-ebs',
          default: true,
          volumeBindingMode: 'WaitForFirstConsumer',
        },
      ],
    });
    expect(
      errorOf(
        withPool(
          'storage:\n  provisioners: [{ name: a.io, volumeTopology: zone }, { name: a.io, volumeTopology: node }]\n',
        ),
      ),
    ).toBe(
      'infra/x/topology.yaml: storage.provisioners[1].name: provisioner "a.io" is listed twice (also storage.provisioners[0].name)',
    );
    expect(errorOf(withPool('storage:\n  provisioners: [{ name: a.io, volumeTopology: region }]\n'))).toBe(
      'infra/x/topology.yaml: storage.provisioners[0].volumeTopology: must be "zone" or "node" or "none", got "region"',
    );
  });

  it('rejects duplicate pool names', () => {
    const msg = errorOf(withPool('  - name: general\n    instanceType: m5.large\n    nodes: 1\n'));
    expect(msg).toBe(
      'infra/x/topology.yaml: nodePools[1].name: duplicate node pool name "general" (also nodePools[0].name)',
    );
  });

  it('rejects a bad taint effect and a missing node count', () => {
    expect(
      errorOf(
        withPool(
          '  - name: gpu\n    instanceType: g4dn.xlarge\n    nodes: 1\n    taints: [{ key: a, effect: Never }]\n',
        ),
      ),
    ).toBe(
      'infra/x/topology.yaml: nodePools[1].taints[0].effect: must be "NoSchedule" or "PreferNoSchedule" or "NoExecute", got "Never"',
    );
    expect(errorOf(withPool('  - name: gpu\n    instanceType: g4dn.xlarge\n'))).toBe(
      'infra/x/topology.yaml: nodePools[1]: node pool "gpu" needs nodesPerZone or nodes',
    );
  });

  it('rejects missing fields, wrong types and unknown fields', () => {
    expect(
      errorOf(
        'apiVersion: twin.dev/v1alpha1\nkind: Topology\nmetadata: { name: t }\nzones: [a]\nnodePools: []\n',
      ),
    ).toBe('infra/x/topology.yaml: region: is required (string)');
    expect(errorOf(withPool('  - name: gpu\n    instanceType: g4dn.xlarge\n    nodesPerZone: two\n'))).toBe(
      'infra/x/topology.yaml: nodePools[1].nodesPerZone: must be a number, got "two"',
    );
    expect(
      errorOf(
        withPool('  - name: gpu\n    instanceType: g4dn.xlarge\n    nodesPerZone: 1\n    instanceCount: 3\n'),
      ),
    ).toBe('infra/x/topology.yaml: nodePools[1]: unknown field "instanceCount"');
  });

  it('rejects zones outside the region', () => {
    expect(errorOf(withPool('', '[us-east-1a]'))).toBe(
      'infra/x/topology.yaml: zones[0]: zone "us-east-1a" is not in region "ap-northeast-1"',
    );
  });

  it('reports YAML syntax errors with line and column', () => {
    const msg = errorOf('apiVersion: twin.dev/v1alpha1\nkind: Topology\nzones: [a, b\n');
    expect(msg).toMatch(/^infra\/x\/topology\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('bounds the node count by what Kubernetes supports, naming the field and how to raise it', () => {
    const msg = errorOf(withPool('  - name: huge\n    instanceType: t3.large\n    nodesPerZone: 1000000\n'));
    expect(msg).toBe(
      'infra/x/topology.yaml: nodePools[1].nodesPerZone: 1000000 × 2 zones brings the topology to 2000002 nodes, more than the 5000 the twin models (Kubernetes supports 5,000 nodes per cluster); lower it, or raise the bound with TWIN_MAX_NODES=<n>',
    );
  });

  it('an alias bomb is refused with the file named', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [prev, next] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
    ])
      levels.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    expect(errorOf(`${levels.join('\n')}\n`)).toMatch(
      /^infra\/x\/topology\.yaml: \(document\): its aliases expand more than 1000 times/,
    );
  });

  it('loads from a file and names the path as given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'topology-'));
    try {
      await writeFile(join(dir, 'ok.yaml'), PRODUCTION_TOPOLOGY);
      expect((await loadTopology(join(dir, 'ok.yaml'))).region).toBe('ap-northeast-1');
      await expect(loadTopology(join(dir, 'missing.yaml'))).rejects.toThrow(
        `${join(dir, 'missing.yaml')}: cannot read the topology file`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('topologyToNodes', () => {
  const nodes = topologyToNodes(parseTopology(PRODUCTION_TOPOLOGY, 'topology.yaml'));
  const byName = new Map(nodes.map((n) => [n.metadata.name, n]));

  it('names nodes by pool, zone and index', () => {
    expect(nodes.map((n) => n.metadata.name)).toEqual([
      'general-1a-1',
      'general-1a-2',
      'general-1a-3',
      'general-1c-1',
      'general-1c-2',
      'general-1c-3',
      'gpu-1a-1',
      'gpu-1c-1',
    ]);
  });

  it('labels nodes as EKS does, plus pool labels', () => {
    const n = byName.get('general-1c-2')!;
    expect(n.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': 'general-1c-2',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'topology.kubernetes.io/zone': 'ap-northeast-1c',
      'topology.kubernetes.io/region': 'ap-northeast-1',
      'node.kubernetes.io/instance-type': 't3.large',
      'eks.amazonaws.com/nodegroup': 'general',
      'workload-tier': 'app',
    });
    expect(n.metadata.labels!['nvidia.com/gpu.present']).toBeUndefined();
    expect(n.spec.taints).toBeUndefined();
  });

  it('gives t3.large its allocatable', () => {
    const n = byName.get('general-1a-1')!;
    expect(n.status.capacity).toMatchObject({ cpu: '2', memory: `${8 * 1024 * 1024}Ki`, pods: '35' });
    expect(n.status.allocatable).toMatchObject({ cpu: '1930m', memory: `${7452 * 1024}Ki`, pods: '35' });
    expect(n.status.allocatable['ephemeral-storage']).toMatch(/^\d+Ki$/);
  });

  it('gives GPU nodes GPU labels, nvidia.com/gpu and their taints', () => {
    const n = byName.get('gpu-1a-1')!;
    expect(n.metadata.labels).toMatchObject({
      'nvidia.com/gpu.present': 'true',
      'nvidia.com/gpu.count': '1',
      'nvidia.com/gpu.product': 'Tesla-T4',
      'node.kubernetes.io/instance-type': 'g4dn.xlarge',
    });
    expect(n.status.capacity['nvidia.com/gpu']).toBe('1');
    expect(n.status.allocatable).toMatchObject({
      cpu: '3920m',
      memory: `${15710 * 1024}Ki`,
      pods: '29',
      'nvidia.com/gpu': '1',
    });
    expect(n.spec.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }]);
  });

  it('reports Ready, no pressure, addresses from per-zone subnets and nodeInfo', () => {
    const n = byName.get('general-1c-1')!;
    const conditions = Object.fromEntries(n.status.conditions.map((c: any) => [c.type, c]));
    expect(conditions['Ready']).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure'])
      expect(conditions[t].status).toBe('False');
    expect(n.status.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.2.10' },
      { type: 'Hostname', address: 'general-1c-1' },
    ]);
    expect(byName.get('gpu-1c-1')!.status.addresses[0].address).toBe('10.0.2.13');
    expect(n.status.nodeInfo.kubeletVersion).toMatch(/^v1\.28\./);
    expect(n.status.nodeInfo).toMatchObject({
      operatingSystem: 'linux',
      architecture: 'amd64',
      osImage: 'Amazon Linux 2',
    });
    expect(new Set(nodes.map((x) => x.status.addresses[0].address)).size).toBe(nodes.length);
  });

  it('spreads `nodes: N` round-robin over the pool zones', () => {
    const t = parseTopology(
      withPool('  - name: batch\n    instanceType: c5.xlarge\n    nodes: 3\n'),
      't.yaml',
    );
    const names = topologyToNodes(t)
      .map((n) => n.metadata.name)
      .filter((n) => n.startsWith('batch'));
    expect(names).toEqual(['batch-1a-1', 'batch-1a-2', 'batch-1c-1']);
  });
});

describe('node subnets (network.nodeSubnets)', () => {
  const sized = (perZone: number, subnets: string) => `apiVersion: twin.dev/v1alpha1
kind: Topology
metadata: { name: big }
region: us-east-1
zones: [us-east-1a, us-east-1b, us-east-1c]
nodePools:
  - { name: general, instanceType: m5.2xlarge, nodesPerZone: ${perZone} }
  - { name: batch, instanceType: c5.xlarge, nodes: 4 }
${subnets}`;

  it('gives 1,000 nodes addresses from the subnet each zone declares', () => {
    const t = parseTopology(
      sized(
        332,
        'network:\n  nodeSubnets: { us-east-1a: 10.0.0.0/20, us-east-1b: 10.0.16.0/20, us-east-1c: 10.0.32.0/20 }\n',
      ),
      'big.yaml',
    );
    const nodes = topologyToNodes(t);
    expect(nodes).toHaveLength(1000);
    const address = (name: string) =>
      nodes.find((n) => n.metadata.name === name)!.status.addresses[0].address as string;
    expect(address('general-1a-1')).toBe('10.0.0.10');
    expect(address('general-1a-332')).toBe('10.0.1.85');
    expect(address('general-1b-1')).toBe('10.0.16.10');
    expect(address('batch-1a-1')).toBe('10.0.1.86'); // after the general nodes of its zone
    expect(address('general-1c-332')).toBe('10.0.33.85');
    expect(new Set(nodes.map((n) => n.status.addresses[0].address)).size).toBe(1000);
  });

  it('names the file, the pool field and the subnet when a pool does not fit its zone', () => {
    expect(errorOf(sized(117, 'network:\n  nodeSubnets: { us-east-1b: 10.0.16.0/25 }\n'))).toBe(
      'infra/x/topology.yaml: nodePools[1].nodes: node pool "batch" brings zone us-east-1b to 118 nodes, more than the 117 node addresses of its subnet 10.0.16.0/25 (network.nodeSubnets.us-east-1b); declare a larger subnet for the zone, as the Terraform\'s private subnets are, or lower the pool',
    );
  });

  it('holds 245 nodes per zone without declared subnets, and says so past that', () => {
    expect(() => parseTopology(sized(243, ''), 'ok.yaml')).not.toThrow(); // 243 + 2 batch nodes in us-east-1a
    expect(errorOf(sized(246, ''))).toMatch(
      /^infra\/x\/topology\.yaml: nodePools\[0\]\.nodesPerZone: node pool "general" brings zone us-east-1a to 246 nodes, more than the 245 node addresses of its subnet 10\.0\.1\.0\/24 \(the default \/24 of a zone without network\.nodeSubnets\.us-east-1a\)/,
    );
  });

  it('rejects a subnet of an unknown zone, overlapping subnets and blocks AWS does not allow', () => {
    expect(errorOf(sized(1, 'network:\n  nodeSubnets: { us-east-1d: 10.0.64.0/20 }\n'))).toMatch(
      /network\.nodeSubnets\.us-east-1d: zone "us-east-1d" is not one of the topology's zones/,
    );
    expect(errorOf(sized(1, 'network:\n  nodeSubnets: { us-east-1b: 10.0.0.0/16 }\n'))).toMatch(
      /network\.nodeSubnets\.us-east-1b: the node subnets of us-east-1a \(10\.0\.1\.0\/24\) and us-east-1b \(10\.0\.0\.0\/16\) overlap/,
    );
    expect(errorOf(sized(1, 'network:\n  nodeSubnets: { us-east-1a: 10.0.0.0/29 }\n'))).toMatch(
      /network\.nodeSubnets\.us-east-1a: 10\.0\.0\.0\/29: an AWS subnet is a \/16 to a \/28 block, got \/29/,
    );
  });
});
