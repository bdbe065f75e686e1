import type { KubeObject } from '../../kube/object.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';
import { containersOf, podTemplates } from './pod-templates.ts';

/** What a namespace will hold of one kind: name → its keys (undefined when not known statically). */
type Provided = Map<string, Set<string> | undefined>;

const keysOf = (o: KubeObject): Set<string> =>
  new Set([
    ...Object.keys(o['data'] ?? {}),
    ...Object.keys(o['stringData'] ?? {}),
    ...Object.keys(o['binaryData'] ?? {}),
  ]);

/**
 * The Secrets and ConfigMaps each namespace will have: those of the manifests, and those the installed
 * add-ons make from them (an ExternalSecret's target, a cert-manager Certificate's secretName, a
 * CloudNativePG Cluster's <name>-app, -ca, -server and -replication Secrets), plus the kube-root-ca.crt
 * ConfigMap the control plane puts in every namespace.
 */
function provided(ctx: CheckContext): { secrets: Map<string, Provided>; configMaps: Map<string, Provided> } {
  const secrets = new Map<string, Provided>();
  const configMaps = new Map<string, Provided>();
  const add = (m: Map<string, Provided>, ns: string, name: string, keys?: Set<string>) => {
    const p = m.get(ns) ?? new Map();
    p.set(name, keys);
    m.set(ns, p);
  };
  const installed = new Set(ctx.addons.map((a) => a.name));
  for (const o of ctx.objects) {
    const ns = o.metadata.namespace ?? 'default';
    if (o.apiVersion === 'v1' && o.kind === 'Secret') add(secrets, ns, o.metadata.name, keysOf(o));
    else if (o.apiVersion === 'v1' && o.kind === 'ConfigMap') add(configMaps, ns, o.metadata.name, keysOf(o));
    else if (
      o.kind === 'ExternalSecret' &&
      o.apiVersion?.startsWith('external-secrets.io/') &&
      installed.has('external-secrets')
    ) {
      if (o.spec?.target?.creationPolicy === 'None') continue;
      const keys =
        o.spec?.dataFrom || o.spec?.target?.template
          ? undefined
          : new Set<string>((o.spec?.data ?? []).map((d: any) => d?.secretKey));
      add(secrets, ns, o.spec?.target?.name ?? o.metadata.name, keys);
    } else if (
      o.kind === 'Certificate' &&
      o.apiVersion === 'cert-manager.io/v1' &&
      installed.has('cert-manager')
    ) {
      add(secrets, ns, o.spec?.secretName, new Set(['tls.crt', 'tls.key', 'ca.crt']));
    } else if (
      o.kind === 'Cluster' &&
      o.apiVersion === 'postgresql.cnpg.io/v1' &&
      installed.has('cloudnative-pg')
    ) {
      for (const suffix of ['app', 'ca', 'server', 'replication'])
        add(secrets, ns, `${o.metadata.name}-${suffix}`, undefined);
    }
  }
  return { secrets, configMaps };
}

/**
 * References of pod templates to objects that will not exist: Secrets and ConfigMaps (env, envFrom,
 * volumes, projected volumes; unless optional), their keys, ServiceAccounts and PersistentVolumeClaims.
 * A cluster creates the workload and then its pods cannot start (or cannot even be created).
 */
export function objectReferenceFindings(ctx: CheckContext): Finding[] {
  const { secrets, configMaps } = provided(ctx);
  const serviceAccounts = new Set(
    ctx.objects
      .filter((o) => o.apiVersion === 'v1' && o.kind === 'ServiceAccount')
      .map((o) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`),
  );
  const claims = new Set(
    ctx.objects
      .filter((o) => o.apiVersion === 'v1' && o.kind === 'PersistentVolumeClaim')
      .map((o) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`),
  );
  const out: Finding[] = [];
  for (const t of podTemplates(ctx.rendered)) {
    if (!t.spec || !t.specPath) continue;
    const ns = t.namespace;
    const report = (field: string, message: string, cluster: string) =>
      out.push(objectFinding(ctx, t.r, { severity: 'error', check: 'references', field, message, cluster }));
    const lookup = (kind: 'Secret' | 'ConfigMap', name: string) =>
      (kind === 'Secret' ? secrets : configMaps).get(ns)?.has(name) ||
      (kind === 'ConfigMap' && name === 'kube-root-ca.crt');
    const keys = (kind: 'Secret' | 'ConfigMap', name: string) =>
      (kind === 'Secret' ? secrets : configMaps).get(ns)?.get(name);
    const lower = (kind: string) => kind.toLowerCase();
    const sa: string = t.spec.serviceAccountName ?? t.spec.serviceAccount ?? 'default';
    if (sa !== 'default' && !serviceAccounts.has(`${ns}/${sa}`))
      report(
        `${t.specPath}.serviceAccountName`,
        `ServiceAccount ${ns}/${sa} is not defined`,
        `the pods cannot be created: FailedCreate (pods is forbidden: error looking up service account ${ns}/${sa}: serviceaccount "${sa}" not found)`,
      );
    (t.spec.volumes ?? []).forEach((v: any, i: number) => {
      const field = `${t.specPath}.volumes[${i}]`;
      const sources: { kind: 'Secret' | 'ConfigMap'; name: string; optional: boolean }[] = [];
      if (v?.secret?.secretName)
        sources.push({ kind: 'Secret', name: v.secret.secretName, optional: !!v.secret.optional });
      if (v?.configMap?.name)
        sources.push({ kind: 'ConfigMap', name: v.configMap.name, optional: !!v.configMap.optional });
      for (const s of v?.projected?.sources ?? []) {
        if (s?.secret?.name)
          sources.push({ kind: 'Secret', name: s.secret.name, optional: !!s.secret.optional });
        if (s?.configMap?.name)
          sources.push({ kind: 'ConfigMap', name: s.configMap.name, optional: !!s.configMap.optional });
      }
      for (const s of sources)
        if (!s.optional && !lookup(s.kind, s.name))
          report(
            field,
            `volume ${v.name}: ${s.kind} ${ns}/${s.name} is not defined (and nothing the cluster installs makes it)`,
            `the pods stay ContainerCreating: FailedMount (MountVolume.SetUp failed for volume "${v.name}" : ${lower(s.kind)} "${s.name}" not found)`,
          );
      const claim = v?.persistentVolumeClaim?.claimName;
      if (claim && !claims.has(`${ns}/${claim}`))
        report(
          `${field}.persistentVolumeClaim.claimName`,
          `volume ${v.name}: PersistentVolumeClaim ${ns}/${claim} is not defined`,
          `the pods stay Pending: persistentvolumeclaim "${claim}" not found`,
        );
    });
    for (const { c, path } of containersOf(t)) {
      (c?.envFrom ?? []).forEach((f: any, i: number) => {
        for (const kind of ['Secret', 'ConfigMap'] as const) {
          const ref = f?.[kind === 'Secret' ? 'secretRef' : 'configMapRef'];
          if (ref?.name && !ref.optional && !lookup(kind, ref.name))
            report(
              `${path}.envFrom[${i}]`,
              `container ${c.name}: ${kind} ${ns}/${ref.name} is not defined (and nothing the cluster installs makes it)`,
              `the container does not start: CreateContainerConfigError (${lower(kind)} "${ref.name}" not found)`,
            );
        }
      });
      (c?.env ?? []).forEach((e: any, i: number) => {
        for (const kind of ['Secret', 'ConfigMap'] as const) {
          const ref = e?.valueFrom?.[kind === 'Secret' ? 'secretKeyRef' : 'configMapKeyRef'];
          if (!ref?.name || ref.optional) continue;
          const field = `${path}.env[${i}].valueFrom`;
          if (!lookup(kind, ref.name))
            report(
              field,
              `container ${c.name}: env ${e.name}: ${kind} ${ns}/${ref.name} is not defined (and nothing the cluster installs makes it)`,
              `the container does not start: CreateContainerConfigError (${lower(kind)} "${ref.name}" not found)`,
            );
          else if (keys(kind, ref.name) && !keys(kind, ref.name)!.has(ref.key))
            report(
              field,
              `container ${c.name}: env ${e.name}: ${kind} ${ns}/${ref.name} has no key ${ref.key} (its keys: ${[...keys(kind, ref.name)!].join(', ') || 'none'})`,
              `the container does not start: CreateContainerConfigError (couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name})`,
            );
        }
      });
    }
  }
  return out;
}
