import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { diagnose, schedule } from '../../../twin/scheduler/schedule.ts';
import { node, pod } from './fixtures.ts';

const ZONE = 'topology.kubernetes.io/zone';
const NOT_HELPFUL = (n: number) =>
  `preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`;

const nodes = [
  node('a-1', { zone: 'zone-a' }),
  node('a-2', { zone: 'zone-a' }),
  node('b-1', { zone: 'zone-b' }),
  node('b-2', { zone: 'zone-b' }),
];

function storageClass(
  name: string,
  mode = 'WaitForFirstConsumer',
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name },
    provisioner: 'ebs.csi.aws.com',
    volumeBindingMode: mode,
    ...extra,
  };
}

function claim(
  name: string,
  o: { className?: string; volume?: string; selectedNode?: string; modes?: string[] } = {},
): KubeObject {
  const annotations: Record<string, string> = {};
  if (o.volume) annotations['pv.kubernetes.io/bind-completed'] = 'yes';
  if (o.selectedNode) annotations['volume.kubernetes.io/selected-node'] = o.selectedNode;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations },
    spec: {
      accessModes: o.modes ?? ['ReadWriteOnce'],
      resources: { requests: { storage: '10Gi' } },
      ...(o.className !== undefined ? { storageClassName: o.className } : {}),
      ...(o.volume ? { volumeName: o.volume } : {}),
    },
    status: { phase: o.volume ? 'Bound' : 'Pending' },
  };
}

function zonalVolume(name: string, zone: string, o: { labels?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, ...(o.labels ? { labels: { [ZONE]: zone } } : {}) },
    spec: {
      capacity: { storage: '10Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'gp3',
      ...(o.labels
        ? {}
        : {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: 'In', values: [zone] }] }],
              },
            },
          }),
    },
    status: { phase: 'Bound' },
  };
}

const withClaims = (name: string, ...claims: string[]) =>
  pod(name, {
    spec: { volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) },
  });

describe('VolumeBinding', () => {
  it('keeps a pod with an unbound immediate claim (a missing class) Pending with the scheduler’s message', () => {
    const result = schedule(withClaims('redis-0', 'data-redis-0'), nodes, [], {
      claims: [claim('data-redis-0', { className: 'fast-ssd' })],
      storageClasses: [storageClass('gp2')],
    });
    expect(result).toEqual({
      unschedulable: `0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. ${NOT_HELPFUL(4)}`,
    });
  });

  it('names a claim that does not exist', () => {
    expect(schedule(withClaims('p', 'missing'), nodes, [])).toEqual({
      unschedulable: `0/4 nodes are available: persistentvolumeclaim "missing" not found. ${NOT_HELPFUL(4)}`,
    });
  });

  it('places a pod with an unbound WaitForFirstConsumer claim anywhere its class can provision', () => {
    const classes = [
      storageClass('gp3'),
      storageClass('only-b', 'WaitForFirstConsumer', {
        allowedTopologies: [{ matchLabelExpressions: [{ key: ZONE, values: ['zone-b'] }] }],
      }),
    ];
    expect(
      schedule(withClaims('p', 'd'), nodes, [], {
        claims: [claim('d', { className: 'gp3' })],
        storageClasses: classes,
      }),
    ).toEqual({
      nodeName: 'a-1',
    });
    expect(
      schedule(withClaims('p', 'd'), nodes, [], {
        claims: [claim('d', { className: 'only-b' })],
        storageClasses: classes,
      }),
    ).toEqual({
      nodeName: 'b-1',
    });
    // A claim the scheduler already chose a node for goes only there.
    expect(
      schedule(withClaims('p', 'd'), nodes, [], {
        claims: [claim('d', { className: 'gp3', selectedNode: 'b-2' })],
        storageClasses: classes,
      }),
    ).toEqual({ nodeName: 'b-2' });
    // No provisioner at all (kubernetes.io/no-provisioner) and no volume: nowhere.
    const local = { ...storageClass('local'), provisioner: 'kubernetes.io/no-provisioner' };
    expect(
      schedule(withClaims('p', 'd'), nodes, [], {
        claims: [claim('d', { className: 'local' })],
        storageClasses: [local],
      }),
    ).toEqual({
      unschedulable: `0/4 nodes are available: 4 node(s) didn't find available persistent volumes to bind. ${NOT_HELPFUL(4)}`,
    });
  });

  it('pins a pod to the zone of the volume it has, and stays Pending when that zone is gone', () => {
    const storage = {
      claims: [claim('data-db-0', { className: 'gp3', volume: 'pvc-1' })],
      persistentVolumes: [zonalVolume('pvc-1', 'zone-b')],
      storageClasses: [storageClass('gp3')],
    };
    const d = diagnose(withClaims('db-0', 'data-db-0'), nodes, [], storage);
    expect(d.result).toEqual({ nodeName: 'b-1' });
    expect([...d.rejections.keys()].sort()).toEqual(['a-1', 'a-2']);
    const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' };
    const lostZoneB = nodes.map((n) =>
      n.metadata.labels![ZONE] === 'zone-b' ? { ...n, spec: { taints: [unreachable] } } : n,
    );
    expect(schedule(withClaims('db-0', 'data-db-0'), lostZoneB, [], storage)).toEqual({
      unschedulable:
        '0/4 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 node(s) had volume node affinity conflict. ' +
        NOT_HELPFUL(4),
    });
  });

  it('reports a bound claim whose volume is gone (VolumeZone’s PreFilter looks it up first)', () => {
    expect(
      schedule(withClaims('p', 'd'), nodes, [], {
        claims: [claim('d', { className: 'gp3', volume: 'gone' })],
        storageClasses: [storageClass('gp3')],
      }),
    ).toEqual({
      unschedulable: `0/4 nodes are available: persistentvolume "gone" not found. ${NOT_HELPFUL(4)}`,
    });
  });
});

describe('VolumeZone', () => {
  it('keeps a pod off nodes outside the zone an in-tree volume is labelled with', () => {
    const storage = {
      claims: [claim('d', { className: 'gp2', volume: 'pvc-2' })],
      persistentVolumes: [zonalVolume('pvc-2', 'zone-a', { labels: true })],
      storageClasses: [storageClass('gp2')],
    };
    const d = diagnose(withClaims('p', 'd'), nodes, [], storage);
    expect(d.result).toEqual({ nodeName: 'a-1' });
    expect(d.rejections.get('b-1')?.reasons).toEqual(['node(s) had no available volume zone']);
  });
});

describe('VolumeRestrictions', () => {
  it('lets one pod at a time use a ReadWriteOncePod claim', () => {
    const storage = {
      claims: [claim('solo', { className: 'gp3', volume: 'pvc-3', modes: ['ReadWriteOncePod'] })],
      persistentVolumes: [zonalVolume('pvc-3', 'zone-a')],
      storageClasses: [storageClass('gp3')],
    };
    expect(schedule(withClaims('first', 'solo'), nodes, [], storage)).toEqual({ nodeName: 'a-1' });
    const running = {
      ...withClaims('first', 'solo'),
      spec: { ...withClaims('first', 'solo').spec, nodeName: 'a-1' },
    };
    running.status = { phase: 'Running' };
    expect(schedule(withClaims('second', 'solo'), nodes, [running], storage)).toEqual({
      unschedulable:
        '0/4 nodes are available: 4 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode. ' +
        'preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.',
    });
  });

  it('refuses a second pod mounting the same inline EBS volume on one node', () => {
    const ebs = { name: 'disk', awsElasticBlockStore: { volumeID: 'vol-0123' } };
    const holder = pod('holder', { nodeName: 'a-1', spec: { volumes: [ebs] } });
    const d = diagnose(pod('p', { spec: { volumes: [ebs] } }), [nodes[0]!], [holder]);
    expect(d.result).toEqual({
      unschedulable:
        '0/1 nodes are available: 1 node(s) had no available disk. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    });
  });
});
