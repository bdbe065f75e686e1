import type { ServedResource } from '../../kube/api/resource-registry.ts';
import { compareVersionPriority } from '../../kube/api/version-priority.ts';

/**
 * The discovery documents of the served resources, as kube-apiserver answers them: `/api`
 * (APIVersions), `/apis` (APIGroupList), `/apis/<group>` (APIGroup), `/api/v1` and
 * `/apis/<group>/<version>` (APIResourceList), and the aggregated discovery of `/api` and `/apis`
 * (APIGroupDiscoveryList, apidiscovery.k8s.io v2 and v2beta1) that kubectl ≥ 1.30 asks for.
 * See https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api
 */

/** The group/version/kind a subresource answers with (Scale is autoscaling/v1, Eviction policy/v1, …). */
function subresourceKind(
  parent: ServedResource,
  sub: { name: string; kind: string },
): { group: string; version: string; kind: string } {
  switch (sub.kind) {
    case 'Scale':
      return { group: 'autoscaling', version: 'v1', kind: 'Scale' };
    case 'Eviction':
      return { group: 'policy', version: 'v1', kind: 'Eviction' };
    case 'TokenRequest':
      return { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' };
    case 'Binding':
      return { group: '', version: 'v1', kind: 'Binding' };
    default:
      return { group: parent.group, version: parent.version, kind: sub.kind || parent.kind };
  }
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

interface GroupVersions {
  name: string;
  versions: string[];
}

function groupsOf(resources: ServedResource[]): GroupVersions[] {
  const by = new Map<string, Set<string>>();
  for (const r of resources) {
    const set = by.get(r.group) ?? new Set<string>();
    set.add(r.version);
    by.set(r.group, set);
  }
  return [...by]
    .map(([name, set]) => ({ name, versions: [...set].sort(compareVersionPriority) }))
    .sort((a, b) => groupOrder(a.name) - groupOrder(b.name) || a.name.localeCompare(b.name));
}

/** kube-apiserver lists the built-in groups in its own order (apps before the others), custom groups after. */
const BUILTIN_ORDER = [
  '',
  'apiregistration.k8s.io',
  'apps',
  'events.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'networking.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'node.k8s.io',
  'discovery.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'resource.k8s.io',
];
function groupOrder(name: string): number {
  const i = BUILTIN_ORDER.indexOf(name);
  return i < 0 ? BUILTIN_ORDER.length : i;
}

function groupDocument(g: GroupVersions): Record<string, unknown> {
  return {
    name: g.name,
    versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${g.name}/${g.versions[0]}`, version: g.versions[0] },
  };
}

export function apiGroupList(resources: ServedResource[]): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groupsOf(resources)
      .filter((g) => g.name !== '')
      .map(groupDocument),
  };
}

export function apiGroup(resources: ServedResource[], name: string): Record<string, unknown> | undefined {
  const g = groupsOf(resources).find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(g) } : undefined;
}

export function apiResourceList(
  resources: ServedResource[],
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const served = resources
    .filter((r) => r.group === group && r.version === version)
    .sort((a, b) => a.name.localeCompare(b.name));
  if (served.length === 0) return undefined;
  const out: Record<string, unknown>[] = [];
  for (const r of served) {
    out.push({
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources) {
      const k = subresourceKind(r, s);
      out.push({
        name: `${r.name}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(k.group !== group || k.version !== version ? { group: k.group, version: k.version } : {}),
        kind: k.kind,
        verbs: s.verbs,
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: out,
  };
}

/**
 * The aggregated discovery document: for `/api` the core group only, for `/apis` every other group;
 * `version` is the apidiscovery.k8s.io version the client asked for (v2, or v2beta1).
 */
export function aggregatedDiscovery(
  resources: ServedResource[],
  core: boolean,
  version: 'v2' | 'v2beta1',
): Record<string, unknown> {
  const groups = groupsOf(resources).filter((g) => (g.name === '') === core);
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: g.name ? { name: g.name } : {},
      versions: g.versions.map((v) => ({
        version: v,
        resources: resources
          .filter((r) => r.group === g.name && r.version === v)
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((r) => ({
            resource: r.name,
            responseKind: { group: r.group, version: r.version, kind: r.kind },
            scope: r.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: r.singularName,
            verbs: r.verbs,
            ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
            ...(r.categories.length > 0 ? { categories: r.categories } : {}),
            ...(r.subresources.length > 0
              ? {
                  subresources: r.subresources.map((s) => ({
                    subresource: s.name,
                    responseKind: subresourceKind(r, s),
                    verbs: s.verbs,
                  })),
                }
              : {}),
          })),
        freshness: 'Current',
      })),
    })),
  };
}

/** What the client accepts of aggregated discovery, from its Accept header (undefined: the plain documents). */
export function acceptsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const p = part.replace(/\s+/g, '');
    if (!p.includes('g=apidiscovery.k8s.io') || !p.includes('as=APIGroupDiscoveryList')) continue;
    if (p.includes('v=v2beta1')) return 'v2beta1';
    if (p.includes('v=v2')) return 'v2';
  }
  return undefined;
}
