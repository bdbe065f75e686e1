import { afterEach, describe, expect, it } from 'vitest';
import type { ScaledClock } from '../../../kube/clock.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { K3S_STORAGE, storageClassObject } from '../../../system/topology/cluster-storage.ts';
import type { ClusterStorage } from '../../../system/topology/topology.ts';
import { StatefulSetController } from '../../../twin/controllers/stateful-set.ts';
import { SchedulerController } from '../../../twin/scheduler/scheduler-controller.ts';
import { PersistentVolumeController } from '../../../twin/storage/persistent-volume-controller.ts';
import { defaultStorageClassAdmission } from '../../../twin/storage/storage-class.ts';
import type { ObjectStore } from '../../../twin/store/object-store.ts';
import { type Harness, markPod, podTemplate, startControllers, until } from '../controllers/harness.ts';
import { node } from '../scheduler/fixtures.ts';

const ZONE = 'topology.kubernetes.io/zone';
const EKS: ClusterStorage = {
  provisioners: [{ name: 'ebs.csi.aws.com', volumeTopology: 'zone' }],
  storageClasses: [
    {
      name: 'gp2',
      provisioner: 'kubernetes.io/aws-ebs',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    },
  ],
};
/** ai-platform's k8s/base/storage-class.yaml */
const GP3: KubeObject = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'gp3' },
  provisioner: 'ebs.csi.aws.com',
  parameters: { type: 'gp3', encrypted: 'true' },
  volumeBindingMode: 'WaitForFirstConsumer',
  reclaimPolicy: 'Delete',
};
const NOT_HELPFUL = 'preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.';

let h: Harness;
let deletedVolumes: string[];
let stopKubelet: (() => void) | undefined;

afterEach(() => {
  stopKubelet?.();
  stopKubelet = undefined;
  h?.stop();
});

/** The scheduler, the PV controller with the cluster's provisioners, the StatefulSet controller; 2 zones × 2 nodes. */
function cluster(storage: ClusterStorage): Harness {
  deletedVolumes = [];
  h = startControllers([
    new SchedulerController(),
    new PersistentVolumeController({
      provisioners: storage.provisioners,
      onVolumeDeleted: (pv) => deletedVolumes.push(pv.metadata.name),
    }),
    new StatefulSetController(),
  ]);
  h.store.addAdmission(defaultStorageClassAdmission(() => h.store.list({ kind: 'StorageClass' })));
  for (const [name, zone] of [
    ['a-1', 'us-east-1a'],
    ['a-2', 'us-east-1a'],
    ['b-1', 'us-east-1b'],
    ['b-2', 'us-east-1b'],
  ] as const)
    h.store.create(node(name, { zone, labels: { 'topology.kubernetes.io/region': 'us-east-1' } }));
  for (const sc of storage.storageClasses ?? []) h.store.create(storageClassObject(sc));
  return h;
}

/** Plays the kubelet: a pod becomes Running and Ready once it is bound to a node. */
function runScheduledPods(store: ObjectStore, clock: ScaledClock): () => void {
  return store.watch({ kind: 'Pod' }, (e) => {
    if (e.type === 'DELETED' || !e.object.spec?.nodeName || e.object.status?.phase === 'Running') return;
    setTimeout(() => {
      if (
        store.get({ kind: 'Pod', namespace: 'default', name: e.object.metadata.name })?.metadata.uid ===
        e.object.metadata.uid
      )
        markPod(store, clock, e.object, 'Running');
    }, 2);
  });
}

function claim(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, ...spec },
  };
}

function podUsing(name: string, claimName: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      containers: [{ name: 'main', image: 'app:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
    },
  };
}

const getClaim = (name: string) => h.store.get({ kind: 'PersistentVolumeClaim', namespace: 'default', name });
const getPod = (name: string) => h.store.get({ kind: 'Pod', namespace: 'default', name });
const getVolume = (name: string) => h.store.get({ kind: 'PersistentVolume', name });
const scheduled = (name: string) =>
  (getPod(name)?.status?.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled');
const reasons = (name: string) => h.eventsFor(name).map((e) => e.reason);
const eventMessage = (name: string, reason: string) =>
  h.eventsFor(name).find((e) => e.reason === reason)?.message;

describe('PersistentVolumeClaims as the PV controller binds them', () => {
  it('keeps a claim of a StorageClass defined nowhere Pending, and its pod, until the class exists', async () => {
    cluster(EKS);
    h.store.create(claim('data', { storageClassName: 'fast-ssd' }));
    h.store.create(podUsing('redis-0', 'data'));
    await until('ProvisioningFailed', () => eventMessage('data', 'ProvisioningFailed'));
    expect(eventMessage('data', 'ProvisioningFailed')).toBe(
      'storageclass.storage.k8s.io "fast-ssd" not found',
    );
    expect(getClaim('data')?.status?.phase).toBe('Pending');
    await until('the pod to be tried', () => scheduled('redis-0'));
    expect(scheduled('redis-0')).toMatchObject({
      status: 'False',
      reason: 'Unschedulable',
      message: `0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. ${NOT_HELPFUL}`,
    });
    expect(getPod('redis-0')?.spec?.nodeName).toBeUndefined();

    // The fix a real cluster needs: the class exists (here gp3's definition under the missing name).
    h.store.create({ ...GP3, metadata: { name: 'fast-ssd' } });
    await until('the pod bound', () => getPod('redis-0')?.spec?.nodeName);
    const c = getClaim('data')!;
    expect(c.status?.phase).toBe('Bound');
    const pv = getVolume(c.spec.volumeName)!;
    const nodeZone = h.store.get({ kind: 'Node', name: getPod('redis-0')!.spec.nodeName })!.metadata.labels![
      ZONE
    ];
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual([nodeZone]);
  });

  it('waits for a provisioner the cluster does not run: ExternalProvisioning, then the PreBind timeout', async () => {
    // ai-platform's gp3 (EBS CSI) on a k3s cluster, which runs only rancher.io/local-path.
    cluster(K3S_STORAGE);
    h.store.create(GP3);
    h.store.create(claim('data-prometheus-0', { storageClassName: 'gp3' }));
    h.store.create(podUsing('prometheus-0', 'data-prometheus-0'));
    await until('ExternalProvisioning', () => eventMessage('data-prometheus-0', 'ExternalProvisioning'));
    expect(eventMessage('data-prometheus-0', 'ExternalProvisioning')).toBe(
      "Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
    );
    const c = getClaim('data-prometheus-0')!;
    expect(c.metadata.annotations).toMatchObject({
      'volume.kubernetes.io/selected-node': 'a-1',
      'volume.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com',
      'volume.beta.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com',
    });
    expect(c.status?.phase).toBe('Pending');
    // bindTimeoutSeconds (600 s of control-plane time) later the scheduler gives up on this attempt.
    await until('the PreBind timeout', () => scheduled('prometheus-0'), 10_000);
    expect(scheduled('prometheus-0')).toMatchObject({
      status: 'False',
      reason: 'SchedulerError',
      message: 'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded',
    });
    expect(getPod('prometheus-0')?.spec?.nodeName).toBeUndefined();
    expect(h.store.list({ kind: 'PersistentVolume' })).toEqual([]);
  });

  it('provisions a WaitForFirstConsumer claim in the zone of the node chosen for its first pod', async () => {
    cluster(EKS);
    h.store.create(GP3);
    h.store.create(claim('data', { storageClassName: 'gp3' }));
    await until('WaitForFirstConsumer', () => reasons('data').includes('WaitForFirstConsumer'));
    expect(eventMessage('data', 'WaitForFirstConsumer')).toBe(
      'waiting for first consumer to be created before binding',
    );
    expect(h.store.list({ kind: 'PersistentVolume' })).toEqual([]);

    h.store.create(podUsing('app', 'data'));
    await until('the pod bound', () => getPod('app')?.spec?.nodeName);
    const c = getClaim('data')!;
    const nodeName = getPod('app')!.spec.nodeName;
    expect(c.metadata.annotations).toMatchObject({
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
      'volume.kubernetes.io/selected-node': nodeName,
    });
    expect(c.spec.volumeName).toBe(`pvc-${c.metadata.uid}`);
    expect(c.status).toEqual({
      phase: 'Bound',
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: '10Gi' },
    });
    const pv = getVolume(c.spec.volumeName)!;
    expect(pv.status.phase).toBe('Bound');
    expect(pv.spec.claimRef).toMatchObject({ name: 'data', namespace: 'default', uid: c.metadata.uid });
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Delete');
    const zone = h.store.get({ kind: 'Node', name: nodeName })!.metadata.labels![ZONE];
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]).toEqual({
      key: ZONE,
      values: [zone],
      operator: 'In',
    });
    const order = reasons('data').filter((r) =>
      ['WaitForFirstConsumer', 'ExternalProvisioning', 'Provisioning', 'ProvisioningSucceeded'].includes(r),
    );
    expect(order.slice(-3)).toEqual(['ExternalProvisioning', 'Provisioning', 'ProvisioningSucceeded']);
    expect(eventMessage('data', 'ProvisioningSucceeded')).toBe(
      `Successfully provisioned volume ${pv.metadata.name}`,
    );
  });

  it('leaves a claim without a class Pending while the cluster has no default class, and gives it the default once there is one', async () => {
    cluster(EKS); // gp2 without the default annotation, as EKS 1.30 creates it
    h.store.create(claim('data-redis-0'));
    h.store.create(podUsing('redis-0', 'data-redis-0'));
    await until('FailedBinding', () => eventMessage('data-redis-0', 'FailedBinding'));
    expect(eventMessage('data-redis-0', 'FailedBinding')).toBe(
      'no persistent volumes available for this claim and no storage class is set',
    );
    expect(getClaim('data-redis-0')?.spec?.storageClassName).toBeUndefined();
    await until('the pod to be tried', () => scheduled('redis-0'));
    expect(scheduled('redis-0')?.message).toBe(
      `0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. ${NOT_HELPFUL}`,
    );

    // Marking gp2 default: the PV controller assigns it to the waiting claim (retroactive default class).
    h.store.patch({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name: 'gp2' }, (sc) => {
      sc.metadata.annotations = { 'storageclass.kubernetes.io/is-default-class': 'true' };
    });
    await until('the pod bound', () => getPod('redis-0')?.spec?.nodeName);
    const c = getClaim('data-redis-0')!;
    expect(c.spec.storageClassName).toBe('gp2');
    const pv = getVolume(c.spec.volumeName)!;
    // The in-tree class is served by the EBS CSI driver through CSI migration.
    expect(pv.metadata.annotations).toMatchObject({
      'pv.kubernetes.io/provisioned-by': 'kubernetes.io/aws-ebs',
      'pv.kubernetes.io/migrated-to': 'ebs.csi.aws.com',
    });
    expect(pv.metadata.labels?.[ZONE]).toBe(
      h.store.get({ kind: 'Node', name: getPod('redis-0')!.spec.nodeName })!.metadata.labels![ZONE],
    );
  });

  it('binds storageClassName "" only to a volume without a class, and marks the binding as the controller’s', async () => {
    cluster(EKS);
    h.store.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'manual-1' },
      spec: {
        capacity: { storage: '20Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: '/mnt/data' },
      },
    });
    h.store.create(claim('static', { storageClassName: '' }));
    await until('bound', () => getClaim('static')?.status?.phase === 'Bound');
    expect(getClaim('static')!.spec.volumeName).toBe('manual-1');
    expect(getClaim('static')!.status.capacity).toEqual({ storage: '20Gi' });
    const pv = getVolume('manual-1')!;
    expect(pv.metadata.annotations).toEqual({ 'pv.kubernetes.io/bound-by-controller': 'yes' });
    expect(pv.status.phase).toBe('Bound');
    // A second such claim finds nothing and no class to provision from.
    h.store.create(claim('static-2', { storageClassName: '' }));
    await until('FailedBinding', () => eventMessage('static-2', 'FailedBinding'));
  });

  it('releases a volume when its claim goes: Retain keeps it, Delete deletes it once no pod uses the claim', async () => {
    cluster(EKS);
    h.store.create(GP3);
    h.store.create({ ...GP3, metadata: { name: 'gp3-retain' }, reclaimPolicy: 'Retain' });
    h.store.create(claim('kept', { storageClassName: 'gp3-retain' }));
    h.store.create(claim('gone', { storageClassName: 'gp3' }));
    h.store.create(podUsing('uses-kept', 'kept'));
    h.store.create(podUsing('uses-gone', 'gone'));
    await until(
      'both bound',
      () => getClaim('kept')?.status?.phase === 'Bound' && getClaim('gone')?.status?.phase === 'Bound',
    );
    const keptPv = getClaim('kept')!.spec.volumeName;
    const gonePv = getClaim('gone')!.spec.volumeName;
    h.store.delete({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'kept' });
    h.store.delete({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'gone' });
    await until(
      'released',
      () =>
        getVolume(keptPv)?.status?.phase === 'Released' && getVolume(gonePv)?.status?.phase === 'Released',
    );
    // The pod still uses the claim: its disk stays.
    await new Promise((r) => setTimeout(r, 50));
    expect(getVolume(gonePv)).toBeDefined();
    h.store.delete({ kind: 'Pod', namespace: 'default', name: 'uses-gone' });
    await until('deleted', () => !getVolume(gonePv));
    expect(deletedVolumes).toEqual([gonePv]);
    h.store.delete({ kind: 'Pod', namespace: 'default', name: 'uses-kept' });
    await new Promise((r) => setTimeout(r, 50));
    expect(getVolume(keptPv)?.status?.phase).toBe('Released');
  });
});

function statefulSet(name: string, replicas: number, policy?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      serviceName: name,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { app: name } },
      template: podTemplate({ app: name }),
      ...(policy ? { persistentVolumeClaimRetentionPolicy: policy } : {}),
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: { app: 'overridden', tier: 'db' } },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: 'gp3',
            resources: { requests: { storage: '5Gi' } },
          },
        },
      ],
    },
  };
}

const STS = (name: string) => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'default', name });
const claimNames = () =>
  h.store
    .list({ kind: 'PersistentVolumeClaim' })
    .map((c) => c.metadata.name)
    .sort();

describe('StatefulSet volumes', () => {
  it('keeps a pod with its volume’s zone: lost with the zone, it stays Pending instead of moving', async () => {
    cluster(EKS);
    h.store.create(GP3);
    stopKubelet = runScheduledPods(h.store, h.clock);
    h.store.create(statefulSet('db', 2));
    await until('2 ready', () => h.store.get(STS('db'))?.status?.readyReplicas === 2);
    expect(claimNames()).toEqual(['data-db-0', 'data-db-1']);
    expect(getClaim('data-db-0')!.metadata.labels).toEqual({ app: 'db', tier: 'db' });
    const zoneOf = (n: string) => h.store.get({ kind: 'Node', name: n })!.metadata.labels![ZONE];
    const lostZone = zoneOf(getPod('db-0')!.spec.nodeName);
    const volume = getClaim('data-db-0')!.spec.volumeName;

    // The zone goes: its nodes are tainted unreachable and the pod is evicted.
    for (const n of h.store.list({ kind: 'Node' }).filter((n) => n.metadata.labels![ZONE] === lostZone))
      h.store.patch({ kind: 'Node', name: n.metadata.name }, (o) => {
        o.spec = { ...o.spec, taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] };
      });
    const oldUid = getPod('db-0')!.metadata.uid;
    h.store.delete({ kind: 'Pod', namespace: 'default', name: 'db-0' });
    await until('the new db-0 tried', () => getPod('db-0')?.metadata.uid !== oldUid && scheduled('db-0'));
    expect(scheduled('db-0')!.message).toBe(
      `0/4 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 node(s) had volume node affinity conflict. ${NOT_HELPFUL}`,
    );
    expect(getPod('db-0')!.spec.nodeName).toBeUndefined();
    expect(getClaim('data-db-0')!.spec.volumeName).toBe(volume);

    // The zone comes back: the pod returns to it, to the same volume.
    for (const n of h.store.list({ kind: 'Node' }))
      h.store.patch({ kind: 'Node', name: n.metadata.name }, (o) => {
        o.spec = {};
      });
    await until('db-0 placed again', () => getPod('db-0')?.spec?.nodeName);
    expect(zoneOf(getPod('db-0')!.spec.nodeName)).toBe(lostZone);
  });

  it('deletes the claims of scaled-away pods under whenScaled: Delete, and keeps the rest when the set goes', async () => {
    cluster(EKS);
    h.store.create(GP3);
    stopKubelet = runScheduledPods(h.store, h.clock);
    h.store.create(statefulSet('db', 3, { whenScaled: 'Delete', whenDeleted: 'Retain' }));
    await until('3 ready', () => h.store.get(STS('db'))?.status?.readyReplicas === 3);
    const volumes = ['data-db-1', 'data-db-2'].map((n) => getClaim(n)!.spec.volumeName);
    expect(getClaim('data-db-0')!.metadata.ownerReferences).toBeUndefined();
    h.store.patch(STS('db'), (s) => {
      s.spec.replicas = 1;
    });
    await until('claims of db-1 and db-2 gone', () => claimNames().join() === 'data-db-0');
    // Their volumes follow the class's reclaim policy (Delete).
    await until('volumes deleted', () => volumes.every((v) => !getVolume(v)));
    expect(deletedVolumes.sort()).toEqual([...volumes].sort());
    h.store.delete(STS('db'));
    await new Promise((r) => setTimeout(r, 30));
    expect(claimNames()).toEqual(['data-db-0']);
  });

  it('deletes every claim with the set under whenDeleted: Delete, and none on a scale-down', async () => {
    cluster(EKS);
    h.store.create(GP3);
    stopKubelet = runScheduledPods(h.store, h.clock);
    h.store.create(statefulSet('db', 2, { whenDeleted: 'Delete', whenScaled: 'Retain' }));
    await until('2 ready', () => h.store.get(STS('db'))?.status?.readyReplicas === 2);
    const set = h.store.get(STS('db'))!;
    expect(getClaim('data-db-1')!.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        name: 'db',
        uid: set.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    h.store.patch(STS('db'), (s) => {
      s.spec.replicas = 1;
    });
    await until('scaled down', () => !getPod('db-1'));
    expect(claimNames()).toEqual(['data-db-0', 'data-db-1']);
    h.store.delete(STS('db'));
    await until('claims gone', () => claimNames().length === 0);
  });
});
