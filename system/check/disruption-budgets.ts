import { matchesSelector } from '../../kube/labels.ts';
import { describeObject } from '../../kube/object.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';
import { type PodTemplate, podTemplates } from './pod-templates.ts';

/** "50%" → 50, 2 → undefined (not a percentage). */
function percent(v: unknown): number | undefined {
  return typeof v === 'string' && /^\d+%$/.test(v) ? Number(v.slice(0, -1)) : undefined;
}

/** The fewest pods a template runs: its replicas, or the minReplicas of the HorizontalPodAutoscaler that scales it. */
function floorReplicas(t: PodTemplate, ctx: CheckContext): number | undefined {
  const o = t.r.object;
  const hpa = ctx.objects.find(
    (h) =>
      h.kind === 'HorizontalPodAutoscaler' &&
      (h.metadata.namespace ?? 'default') === t.namespace &&
      h.spec?.scaleTargetRef?.kind === o.kind &&
      h.spec?.scaleTargetRef?.name === o.metadata.name,
  );
  if (hpa) return hpa.spec?.minReplicas ?? 1;
  return t.replicas;
}

/**
 * PodDisruptionBudgets that allow no voluntary disruption at all: maxUnavailable 0 (or 0%), or
 * minAvailable at least the pods it covers (with their fewest replicas: a HorizontalPodAutoscaler's
 * minReplicas). The disruption controller then gives disruptionsAllowed 0 for ever. Budgets that
 * cover no pod are warnings.
 */
export function disruptionBudgetFindings(ctx: CheckContext): Finding[] {
  const templates = podTemplates(ctx.rendered);
  const out: Finding[] = [];
  const blocked =
    'every eviction is refused (429: "Cannot evict pod as it would violate the pod\'s disruption budget"): kubectl drain never finishes, and node upgrades (an EKS managed node group fails with PodEvictionFailure) and the cluster autoscaler\'s scale-down stop at these pods';
  for (const r of ctx.rendered) {
    const pdb = r.object;
    if (pdb.apiVersion !== 'policy/v1' || pdb.kind !== 'PodDisruptionBudget') continue;
    const ns = pdb.metadata.namespace ?? 'default';
    const covered = templates.filter(
      (t) => t.namespace === ns && matchesSelector(pdb.spec?.selector, t.labels),
    );
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined && (maxUnavailable === 0 || percent(maxUnavailable) === 0)) {
      out.push(
        objectFinding(ctx, r, {
          severity: 'error',
          check: 'pdb',
          field: 'spec.maxUnavailable',
          message: `maxUnavailable ${maxUnavailable}: no pod it covers may ever be evicted`,
          cluster: blocked,
        }),
      );
      continue;
    }
    if (covered.length === 0) {
      out.push(
        objectFinding(ctx, r, {
          severity: 'warning',
          check: 'pdb',
          field: 'spec.selector',
          message: `covers no pod: no workload, pod or operator of the manifests makes pods in ${ns} that its selector matches`,
          cluster: 'protects nothing (status: expectedPods 0)',
        }),
      );
      continue;
    }
    if (minAvailable === undefined) continue;
    const floors = covered.map((t) => floorReplicas(t, ctx));
    if (floors.some((f) => f === undefined)) continue; // a DaemonSet or Job: its count is not static
    const total = floors.reduce((a: number, b) => a + (b ?? 0), 0);
    if (total === 0) continue;
    const p = percent(minAvailable);
    const needed = p !== undefined ? Math.ceil((total * p) / 100) : Number(minAvailable);
    if (needed < total) continue;
    out.push(
      objectFinding(ctx, r, {
        severity: 'error',
        check: 'pdb',
        field: 'spec.minAvailable',
        message: `minAvailable ${minAvailable} needs ${needed} of the ${total} pods it covers (${covered.map((t, i) => `${describeObject(t.r.object)}: ${floors[i]}`).join(', ')}) to stay up: none may be evicted`,
        cluster: blocked,
      }),
    );
  }
  return out;
}
