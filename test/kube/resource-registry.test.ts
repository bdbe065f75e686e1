import { describe, expect, it } from 'vitest';
import { ResourceRegistry } from '../../kube/api/resource-registry.ts';
import { compareVersionPriority } from '../../kube/api/version-priority.ts';

const crd = (versions: { name: string; served: boolean; storage: boolean }[]) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'rollouts.argoproj.io' },
  spec: {
    group: 'argoproj.io',
    scope: 'Namespaced',
    names: { kind: 'Rollout', plural: 'rollouts', singular: 'rollout', shortNames: ['ro'] },
    versions: versions.map((v) => ({
      ...v,
      schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      subresources: {
        status: {},
        scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
      },
    })),
  },
});

describe('ResourceRegistry', () => {
  it('knows the built-ins by kind and by URL', () => {
    const reg = new ResourceRegistry();
    expect(reg.lookupKind('apps/v1', 'Deployment')?.name).toBe('deployments');
    expect(reg.lookupKind('apps/v9', 'Deployment')).toBeUndefined();
    expect(reg.lookupKind('apps/v1', 'Deploymint')).toBeUndefined();
    expect(reg.lookupResource('', 'v1', 'pods')?.kind).toBe('Pod');
    expect(reg.groups()[0]).toEqual({ name: '', versions: ['v1'] });
    expect(reg.groups().find((g) => g.name === 'autoscaling')?.versions).toEqual(['v2', 'v1']);
  });

  it('serves a CRD’s served versions and forgets them when it is removed', () => {
    const reg = new ResourceRegistry();
    let changes = 0;
    reg.onChange(() => changes++);
    expect(reg.lookupKind('argoproj.io/v1alpha1', 'Rollout')).toBeUndefined();
    reg.addCustomResourceDefinition(
      crd([
        { name: 'v1alpha1', served: true, storage: true },
        { name: 'v1alpha0', served: false, storage: false },
      ]) as any,
    );
    const r = reg.lookupKind('argoproj.io/v1alpha1', 'Rollout');
    expect(r).toMatchObject({ name: 'rollouts', namespaced: true, shortNames: ['ro'] });
    expect(r?.subresources.map((s) => s.name)).toEqual(['status', 'scale']);
    expect(r?.custom?.storage).toBe(true);
    expect(reg.lookupKind('argoproj.io/v1alpha0', 'Rollout')).toBeUndefined();
    reg.removeCustomResourceDefinition('rollouts.argoproj.io');
    expect(reg.lookupResource('argoproj.io', 'v1alpha1', 'rollouts')).toBeUndefined();
    expect(changes).toBe(2);
  });

  it('orders versions as Kubernetes’ version priority', () => {
    const sorted = [
      'v1beta1',
      'v11alpha2',
      'foo1',
      'v2',
      'v1',
      'v10beta3',
      'v12alpha1',
      'foo10',
      'v10',
      'v3beta1',
    ].sort(compareVersionPriority);
    // The documented example order.
    expect(sorted).toEqual([
      'v10',
      'v2',
      'v1',
      'v10beta3',
      'v3beta1',
      'v1beta1',
      'v12alpha1',
      'v11alpha2',
      'foo1',
      'foo10',
    ]);
  });
});
