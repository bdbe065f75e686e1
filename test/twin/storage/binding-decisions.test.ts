import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { K3S_STORAGE, storageClassObject } from '../../../system/topology/cluster-storage.ts';
import { chooseZone, provisionedVolume } from '../../../twin/storage/provisioned-volume.ts';
import { resolveProvisioner } from '../../../twin/storage/provisioners.ts';
import {
  claimClass,
  claimHasClass,
  defaultStorageClass,
  defaultStorageClassAdmission,
  isDelayBinding,
} from '../../../twin/storage/storage-class.ts';
import { findMatchingVolume, volumeMismatch } from '../../../twin/storage/volume-matching.ts';
import { node } from '../scheduler/fixtures.ts';

const EBS = { name: 'ebs.csi.aws.com', volumeTopology: 'zone' } as const;

function storageClass(
  name: string,
  o: { provisioner?: string; default?: boolean; mode?: string; created?: string; reclaim?: string } = {},
): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name,
      creationTimestamp: o.created ?? '2026-01-01T00:00:00Z',
      ...(o.default ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}),
    },
    provisioner: o.provisioner ?? 'ebs.csi.aws.com',
    volumeBindingMode: o.mode ?? 'WaitForFirstConsumer',
    reclaimPolicy: o.reclaim ?? 'Delete',
  };
}

function claim(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'data', uid: `uid-${name}`, resourceVersion: '7' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, ...spec },
  };
}

function volume(
  name: string,
  o: {
    size?: string;
    className?: string;
    phase?: string;
    claimRef?: object;
    zone?: string;
    modes?: string[];
    labels?: Record<string, string>;
  } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: o.labels ?? {} },
    spec: {
      capacity: { storage: o.size ?? '10Gi' },
      accessModes: o.modes ?? ['ReadWriteOnce'],
      ...(o.className !== undefined ? { storageClassName: o.className } : {}),
      ...(o.claimRef ? { claimRef: o.claimRef } : {}),
      ...(o.zone
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: 'topology.kubernetes.io/zone', operator: 'In', values: [o.zone] },
                    ],
                  },
                ],
              },
            },
          }
        : {}),
    },
    status: { phase: o.phase ?? 'Available' },
  };
}

describe('StorageClass defaults (DefaultStorageClass admission)', () => {
  it('picks the newest of several default classes, then the first by name', () => {
    const classes = [
      storageClass('gp2', { default: true, created: '2025-01-01T00:00:00Z' }),
      storageClass('gp3', { default: true, created: '2026-02-01T00:00:00Z' }),
      storageClass('io2', { created: '2026-03-01T00:00:00Z' }),
    ];
    expect(defaultStorageClass(classes)?.metadata.name).toBe('gp3');
    expect(
      defaultStorageClass([storageClass('b', { default: true }), storageClass('a', { default: true })])
        ?.metadata.name,
    ).toBe('a');
    expect(defaultStorageClass([storageClass('io2')])).toBeUndefined();
  });

  it('gives a claim without a class the default one, and leaves storageClassName "" alone', () => {
    const admit = defaultStorageClassAdmission(() => [storageClass('gp2', { default: true })]);
    const none = claim('a');
    admit(none);
    expect(none.spec.storageClassName).toBe('gp2');
    const empty = claim('b', { storageClassName: '' });
    expect(claimHasClass(empty)).toBe(true);
    admit(empty);
    expect(empty.spec.storageClassName).toBe('');
    const named = claim('c', { storageClassName: 'fast-ssd' });
    admit(named);
    expect(claimClass(named)).toBe('fast-ssd');
    const noDefault = claim('d');
    defaultStorageClassAdmission(() => [storageClass('gp2')])(noDefault);
    expect(claimHasClass(noDefault)).toBe(false);
  });

  it('delays binding only for an existing WaitForFirstConsumer class; a missing class binds immediately', () => {
    const classes = new Map([
      ['gp3', storageClass('gp3')],
      ['io2', storageClass('io2', { mode: 'Immediate' })],
    ]);
    const lookup = (n: string) => classes.get(n);
    expect(isDelayBinding(claim('a', { storageClassName: 'gp3' }), lookup)).toBe(true);
    expect(isDelayBinding(claim('a', { storageClassName: 'io2' }), lookup)).toBe(false);
    expect(isDelayBinding(claim('a', { storageClassName: 'fast-ssd' }), lookup)).toBe(false);
    expect(isDelayBinding(claim('a', { storageClassName: '' }), lookup)).toBe(false);
  });
});

describe('matching a claim to a volume (FindMatchingVolume)', () => {
  const c = claim('data-db-0', { storageClassName: 'manual' });

  it('prefers the volume pre-bound to the claim, else the smallest Available one of its class', () => {
    const big = volume('big', { size: '100Gi', className: 'manual' });
    const small = volume('small', { size: '20Gi', className: 'manual' });
    const tooSmall = volume('tiny', { size: '1Gi', className: 'manual' });
    const otherClass = volume('other', { size: '10Gi', className: 'gp3' });
    expect(
      findMatchingVolume(c, [big, small, tooSmall, otherClass], { delayBinding: false })?.metadata.name,
    ).toBe('small');
    const pre = volume('pre', {
      size: '500Gi',
      className: 'manual',
      claimRef: { namespace: 'data', name: 'data-db-0' },
      phase: 'Pending',
    });
    expect(findMatchingVolume(c, [small, pre], { delayBinding: false })?.metadata.name).toBe('pre');
    const taken = volume('taken', {
      className: 'manual',
      claimRef: { namespace: 'data', name: 'x', uid: 'u' },
    });
    expect(findMatchingVolume(c, [taken], { delayBinding: false })).toBeUndefined();
  });

  it('requires the access modes, the claim selector and, on the scheduler path, the node affinity', () => {
    const rwx = claim('shared', { storageClassName: 'manual', accessModes: ['ReadWriteMany'] });
    expect(
      findMatchingVolume(rwx, [volume('v', { className: 'manual' })], { delayBinding: false }),
    ).toBeUndefined();
    const selecting = claim('sel', {
      storageClassName: 'manual',
      selector: { matchLabels: { tier: 'fast' } },
    });
    expect(
      findMatchingVolume(selecting, [volume('v', { className: 'manual' })], { delayBinding: false }),
    ).toBeUndefined();
    expect(
      findMatchingVolume(selecting, [volume('v', { className: 'manual', labels: { tier: 'fast' } })], {
        delayBinding: false,
      })?.metadata.name,
    ).toBe('v');
    const zonal = volume('zonal', { className: 'manual', zone: 'zone-a' });
    expect(
      findMatchingVolume(c, [zonal], { delayBinding: true, node: node('n-b', { zone: 'zone-b' }) }),
    ).toBeUndefined();
    expect(
      findMatchingVolume(c, [zonal], { delayBinding: true, node: node('n-a', { zone: 'zone-a' }) })?.metadata
        .name,
    ).toBe('zonal');
    // The PV controller leaves delayed-binding claims to the scheduler.
    expect(findMatchingVolume(c, [zonal], { delayBinding: true })).toBeUndefined();
  });

  it('says why a volume a claim names cannot serve it', () => {
    expect(volumeMismatch(volume('v', { size: '1Gi', className: 'manual' }), c)).toBe(
      'requested PV is too small',
    );
    expect(volumeMismatch(volume('v', { className: 'gp3' }), c)).toBe('storageClassName does not match');
    expect(volumeMismatch(volume('v', { className: 'manual' }), c)).toBeUndefined();
  });
});

describe('provisioners', () => {
  it('serves a migrated in-tree class by its CSI driver, only when the cluster runs that driver', () => {
    expect(resolveProvisioner('kubernetes.io/aws-ebs', [EBS])).toEqual({
      external: 'ebs.csi.aws.com',
      running: EBS,
    });
    expect(resolveProvisioner('ebs.csi.aws.com', K3S_STORAGE.provisioners)).toEqual({
      external: 'ebs.csi.aws.com',
    });
    expect(resolveProvisioner('kubernetes.io/no-provisioner', [EBS])).toEqual({
      failed: 'no provisionable volume plugin matched',
    });
  });

  it('spreads a StatefulSet’s claims over the sorted zones by ordinal, and keeps one member’s claims together', () => {
    const zones = ['us-east-1c', 'us-east-1a', 'us-east-1b'];
    const picked = [0, 1, 2].map((i) => chooseZone(`data-redis-${i}`, zones));
    expect(new Set(picked).size).toBe(3);
    // Claims of the same member (different templates) land in the same zone.
    expect(chooseZone('node-conf-redis-1', zones)).toBe(chooseZone('data-redis-1', zones));
    expect(chooseZone('data', [])).toBeUndefined();
  });

  it('writes the volume pre-bound to the claim with the class reclaim policy and zone affinity', () => {
    const c = claim('data-prometheus-0', { storageClassName: 'gp3' });
    const pv = provisionedVolume(c, storageClass('gp3', { reclaim: 'Retain' }), EBS, {
      zone: 'ap-northeast-1a',
      region: 'ap-northeast-1',
    });
    expect(pv.metadata.name).toBe('pvc-uid-data-prometheus-0');
    expect(pv.metadata.annotations).toEqual({ 'pv.kubernetes.io/provisioned-by': 'ebs.csi.aws.com' });
    expect(pv.metadata.labels).toBeUndefined();
    expect(pv.spec).toMatchObject({
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: '10Gi' },
      claimRef: {
        kind: 'PersistentVolumeClaim',
        namespace: 'data',
        name: 'data-prometheus-0',
        uid: 'uid-data-prometheus-0',
      },
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: 'gp3',
      volumeMode: 'Filesystem',
      csi: { driver: 'ebs.csi.aws.com', fsType: 'ext4' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['ap-northeast-1a'] },
              ],
            },
          ],
        },
      },
    });
    expect(pv.spec.csi.volumeHandle).toMatch(/^vol-[0-9a-f]{17}$/);
    // An in-tree (migrated) class: an awsElasticBlockStore volume carrying its zone and region as labels.
    const gp2 = storageClassObject({ name: 'gp2', provisioner: 'kubernetes.io/aws-ebs', default: true });
    const inTree = provisionedVolume(claim('data-redis-0'), gp2, EBS, {
      zone: 'us-east-1b',
      region: 'us-east-1',
    });
    expect(inTree.metadata.labels).toEqual({
      'topology.kubernetes.io/zone': 'us-east-1b',
      'topology.kubernetes.io/region': 'us-east-1',
    });
    expect(inTree.metadata.annotations).toEqual({
      'pv.kubernetes.io/provisioned-by': 'kubernetes.io/aws-ebs',
      'pv.kubernetes.io/migrated-to': 'ebs.csi.aws.com',
    });
    expect(inTree.spec.awsElasticBlockStore.volumeID).toMatch(/^aws:\/\/us-east-1b\/vol-/);
    expect(gp2.metadata.annotations).toEqual({ 'storageclass.kubernetes.io/is-default-class': 'true' });
  });
});
