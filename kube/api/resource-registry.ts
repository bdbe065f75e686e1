import type { KubeObject } from '../object.ts';
import { type ApiResource, BUILTIN_RESOURCES } from './api-resources.ts';
import { compareVersionPriority } from './version-priority.ts';

/** What a served custom resource carries beyond discovery: its CRD and the version's schema and columns. */
export interface CustomResourceInfo {
  /** metadata.name of the CustomResourceDefinition. */
  crdName: string;
  /** spec.versions[].schema.openAPIV3Schema of this version (undefined when the CRD gives none). */
  schema: Record<string, unknown> | undefined;
  additionalPrinterColumns: {
    name: string;
    type: string;
    jsonPath: string;
    description?: string;
    priority?: number;
    format?: string;
  }[];
  /** Whether this version is the one objects are stored in. */
  storage: boolean;
  /** Fields objects can be selected by (`?fieldSelector=`) beyond metadata.name and metadata.namespace. */
  selectableFields?: { jsonPath: string }[];
  /** The scale subresource's paths, when the CRD enables it. */
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
}

export interface ServedResource extends ApiResource {
  /** Present for resources served from a CustomResourceDefinition. */
  custom?: CustomResourceInfo;
}

export interface ApiGroupVersions {
  /** "" for the core group. */
  name: string;
  /** Served versions, preferred first. */
  versions: string[];
}

const CRD_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/**
 * The resources an API server serves: the built-ins of kube/api plus those of every
 * CustomResourceDefinition added, as the apiextensions-apiserver serves them (one resource per
 * served version). Lookups by apiVersion+kind (what manifests name) and by group/version/plural
 * (what URLs name). Changes are reported to listeners (discovery caches, informers of CRDs).
 */
export class ResourceRegistry {
  private readonly byKind = new Map<string, ServedResource>();
  private readonly byPath = new Map<string, ServedResource>();
  private readonly crds = new Map<string, ServedResource[]>();
  private readonly listeners = new Set<() => void>();

  constructor(builtins: readonly ApiResource[] = BUILTIN_RESOURCES) {
    for (const r of builtins) this.index(r);
  }

  /** The resource an object of `apiVersion`/`kind` is stored as; undefined is "no matches for kind". */
  lookupKind(apiVersion: string, kind: string): ServedResource | undefined {
    return this.byKind.get(`${apiVersion}/${kind}`);
  }

  /** The resource a URL names (`/apis/<group>/<version>/<plural>`, core group ""). */
  lookupResource(group: string, version: string, plural: string): ServedResource | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  /** Every served version of a group+kind, preferred first (kubectl's "no matches for kind … in version …" lists them). */
  versionsOfKind(group: string, kind: string): ServedResource[] {
    return this.all()
      .filter((r) => r.group === group && r.kind === kind)
      .sort((a, b) => compareVersionPriority(a.version, b.version));
  }

  all(): ServedResource[] {
    return [...this.byPath.values()];
  }

  /** The groups and their versions, core first, then by name, as /apis lists them. */
  groups(): ApiGroupVersions[] {
    const versions = new Map<string, Set<string>>();
    for (const r of this.byPath.values()) {
      const set = versions.get(r.group) ?? new Set<string>();
      set.add(r.version);
      versions.set(r.group, set);
    }
    return [...versions]
      .map(([name, set]) => ({ name, versions: [...set].sort(compareVersionPriority) }))
      .sort((a, b) => (a.name === '' ? -1 : b.name === '' ? 1 : a.name.localeCompare(b.name)));
  }

  /**
   * Serves the resources of a CustomResourceDefinition (replacing what an earlier version of the same
   * CRD served). Only `served` versions are added.
   */
  addCustomResourceDefinition(crd: KubeObject): void {
    this.removeCustomResourceDefinition(crd.metadata.name, false);
    const spec = crd.spec ?? {};
    const names = spec.names ?? {};
    const served: ServedResource[] = [];
    for (const v of (spec.versions ?? []) as any[]) {
      if (!v.served) continue;
      const subresources: ApiResource['subresources'] = [];
      if (v.subresources?.status)
        subresources.push({ name: 'status', kind: names.kind, verbs: ['get', 'patch', 'update'] });
      if (v.subresources?.scale)
        subresources.push({ name: 'scale', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
      const r: ServedResource = {
        group: spec.group,
        version: v.name,
        name: names.plural,
        singularName: names.singular ?? String(names.kind).toLowerCase(),
        kind: names.kind,
        namespaced: spec.scope === 'Namespaced',
        verbs: CRD_VERBS,
        shortNames: names.shortNames ?? [],
        categories: names.categories ?? [],
        subresources,
        custom: {
          crdName: crd.metadata.name,
          schema: v.schema?.openAPIV3Schema,
          additionalPrinterColumns: v.additionalPrinterColumns ?? [],
          storage: v.storage === true,
          ...(v.subresources?.scale ? { scale: v.subresources.scale } : {}),
          ...(v.selectableFields ? { selectableFields: v.selectableFields } : {}),
        },
      };
      served.push(r);
      this.index(r);
    }
    this.crds.set(crd.metadata.name, served);
    this.changed();
  }

  removeCustomResourceDefinition(name: string, notify = true): void {
    const served = this.crds.get(name);
    if (!served) return;
    for (const r of served) {
      this.byKind.delete(`${apiVersionOf(r)}/${r.kind}`);
      this.byPath.delete(`${r.group}/${r.version}/${r.name}`);
    }
    this.crds.delete(name);
    if (notify) this.changed();
  }

  /** Calls `listener` after every change; returns the function that removes it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private index(r: ServedResource): void {
    this.byKind.set(`${apiVersionOf(r)}/${r.kind}`, r);
    this.byPath.set(`${r.group}/${r.version}/${r.name}`, r);
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** "apps/v1", or "v1" for the core group. */
export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}
