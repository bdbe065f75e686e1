import type { KubeObject } from '../../kube/object.ts';
import type { RenderedObject } from '../render/rendered-object.ts';
import { storageClassObject } from '../topology/cluster-storage.ts';
import { resolveProvisioner } from '../topology/provisioners.ts';
import {
  bindingMode,
  claimClass,
  claimHasClass,
  defaultStorageClass,
  NO_PROVISIONER,
  volumeClass,
} from '../topology/storage-classes.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';
import { podTemplates } from './pod-templates.ts';

/** A volume claim the objects make, with the field that names its class. */
interface ClaimSource {
  r: RenderedObject;
  what: string;
  /** The field that names the class, or the claim (template) itself when it names none. */
  field: string;
  /** undefined: no class asked for (the default class applies); "": explicitly none. */
  className: string | undefined;
}

const asClaim = (template: any): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: '', ...(template?.metadata ?? {}) },
  spec: template?.spec ?? {},
});

function claimOf(r: RenderedObject, what: string, at: string, template: any): ClaimSource {
  const claim = asClaim(template);
  const has = claimHasClass(claim);
  return {
    r,
    what,
    field: has && claim.spec?.storageClassName !== undefined ? `${at}.spec.storageClassName` : at,
    className: has ? claimClass(claim) : undefined,
  };
}

/** Every claim the manifests make: PersistentVolumeClaims, volumeClaimTemplates, ephemeral volumes, the operators' claims. */
function claimSources(rendered: readonly RenderedObject[]): ClaimSource[] {
  const out: ClaimSource[] = [];
  for (const r of rendered) {
    const o = r.object;
    if (o.apiVersion === 'v1' && o.kind === 'PersistentVolumeClaim') {
      const has = claimHasClass(o);
      out.push({
        r,
        what: 'the claim',
        field: has && o.spec?.storageClassName !== undefined ? 'spec.storageClassName' : 'spec',
        className: has ? claimClass(o) : undefined,
      });
    } else if (o.apiVersion === 'apps/v1' && o.kind === 'StatefulSet') {
      (o.spec?.volumeClaimTemplates ?? []).forEach((t: any, i: number) => {
        out.push(
          claimOf(r, `volumeClaimTemplate ${t?.metadata?.name ?? i}`, `spec.volumeClaimTemplates[${i}]`, t),
        );
      });
    } else if (o.apiVersion === 'postgresql.cnpg.io/v1' && o.kind === 'Cluster') {
      for (const key of ['storage', 'walStorage'] as const) {
        const s = o.spec?.[key];
        if (!s) continue;
        const named = s.storageClass ?? s.pvcTemplate?.storageClassName;
        out.push({
          r,
          what: `the instances' ${key === 'storage' ? 'PGDATA' : 'WAL'} claims`,
          field: s.storageClass !== undefined ? `spec.${key}.storageClass` : `spec.${key}`,
          className: named,
        });
      }
    } else if (o.apiVersion?.startsWith('redis.redis.opstreelabs.in/') && o.kind === 'RedisCluster') {
      const s = o.spec?.storage;
      if (s?.volumeClaimTemplate)
        out.push(claimOf(r, 'the data claims', 'spec.storage.volumeClaimTemplate', s.volumeClaimTemplate));
      if (s?.nodeConfVolume && s?.nodeConfVolumeClaimTemplate)
        out.push(
          claimOf(
            r,
            'the nodes.conf claims',
            'spec.storage.nodeConfVolumeClaimTemplate',
            s.nodeConfVolumeClaimTemplate,
          ),
        );
    }
  }
  for (const t of podTemplates(rendered)) {
    (t.spec?.volumes ?? []).forEach((v: any, i: number) => {
      if (v?.ephemeral?.volumeClaimTemplate)
        out.push(
          claimOf(
            t.r,
            `ephemeral volume ${v.name}`,
            `${t.specPath}.volumes[${i}].ephemeral.volumeClaimTemplate`,
            v.ephemeral.volumeClaimTemplate,
          ),
        );
    });
  }
  return out;
}

/**
 * Claims that a cluster of the profile leaves Pending, decided as its PV controller decides (the same
 * pure functions as the twin's, system/topology): a class that does not exist, no class and no default
 * class, a class whose provisioner the cluster does not run (EBS CSI on k3s), an in-tree provisioner
 * with no plugin left. The StorageClasses are the cluster's own (the profile's storage) and those of the
 * manifests. Their pods stay Pending with them.
 */
export function storageClassFindings(ctx: CheckContext): Finding[] {
  if (!ctx.topology) return [];
  const storage = ctx.profile.storage(ctx.topology);
  const classes = [
    ...(storage.storageClasses ?? []).map(storageClassObject),
    ...ctx.objects.filter((o) => o.apiVersion === 'storage.k8s.io/v1' && o.kind === 'StorageClass'),
  ];
  const volumes = ctx.objects.filter((o) => o.apiVersion === 'v1' && o.kind === 'PersistentVolume');
  const def = defaultStorageClass(classes);
  const clusterClasses = (storage.storageClasses ?? []).map((c) => c.name);
  const has = `the ${ctx.profile.title} cluster's classes: ${[...new Set(classes.map((c) => c.metadata.name))].join(', ') || 'none'}`;
  const out: Finding[] = [];
  const immediate = 'and so do the pods that mount it ("pod has unbound immediate PersistentVolumeClaims")';
  const delayed =
    'and the pods that mount it are placed on a node and wait there for it until the scheduler gives up and tries again (running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded)';
  for (const c of claimSources(ctx.rendered)) {
    const className = c.className ?? def?.metadata.name;
    if (className !== undefined && className !== '' && volumes.some((v) => volumeClass(v) === className))
      continue;
    const report = (message: string, cluster: string) =>
      out.push(
        objectFinding(ctx, c.r, { severity: 'error', check: 'storage', field: c.field, message, cluster }),
      );
    if (className === undefined || className === '') {
      if (volumes.some((v) => volumeClass(v) === '')) continue;
      report(
        c.className === ''
          ? `${c.what} asks for no StorageClass (storageClassName: ""), and no PersistentVolume without a class exists`
          : `${c.what} names no StorageClass, and the ${ctx.profile.title} cluster has no default class (${has})`,
        `the claim stays Pending (FailedBinding: "no persistent volumes available for this claim and no storage class is set"), ${immediate}`,
      );
      continue;
    }
    const sc = classes.find((s) => s.metadata.name === className);
    if (!sc) {
      report(
        `${c.what}: StorageClass "${className}" is defined nowhere (${has}; the manifests define ${
          classes
            .filter((s) => !clusterClasses.includes(s.metadata.name))
            .map((s) => s.metadata.name)
            .join(', ') || 'none'
        })`,
        `the claim stays Pending (ProvisioningFailed: storageclass.storage.k8s.io "${className}" not found), ${immediate}`,
      );
      continue;
    }
    const provisioner = String(sc['provisioner'] ?? '');
    const pendingPods = bindingMode(sc) === 'WaitForFirstConsumer' ? delayed : immediate;
    if (provisioner === NO_PROVISIONER) {
      report(
        `${c.what}: StorageClass "${className}" has no provisioner (${NO_PROVISIONER}) and no PersistentVolume of that class exists`,
        `the claim stays Pending ("no persistent volumes available for this claim"), ${pendingPods}`,
      );
      continue;
    }
    const resolved = resolveProvisioner(provisioner, storage.provisioners);
    if ('failed' in resolved) {
      report(
        `${c.what}: StorageClass "${className}" names the in-tree provisioner ${provisioner}, which no volume plugin serves any more`,
        `the claim stays Pending (ProvisioningFailed: ${resolved.failed}), ${pendingPods}`,
      );
    } else if (!resolved.running) {
      const runs = storage.provisioners.map((p) => p.name).join(', ') || 'none';
      report(
        `${c.what}: StorageClass "${className}" is provisioned by ${resolved.external}${resolved.external !== provisioner ? ` (${provisioner} through CSI migration)` : ''}, which the ${ctx.profile.title} cluster does not run (its provisioners: ${runs})`,
        `the claim stays Pending for ever (ExternalProvisioning: "Waiting for a volume to be created either by the external provisioner '${resolved.external}' or manually by the system administrator…"), ${pendingPods}`,
      );
    }
  }
  return out;
}
