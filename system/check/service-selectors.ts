import { matchesMap } from '../../kube/labels.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';
import { containersOf, type PodTemplate, podTemplates } from './pod-templates.ts';

/** Whether a pod template declares a container port by that name (and protocol). */
function declaresPortName(t: PodTemplate, name: string, protocol: string): boolean {
  return containersOf(t).some(({ c, init }) =>
    (c?.ports ?? []).some(
      (p: any) =>
        p?.name === name && (p?.protocol ?? 'TCP') === protocol && (!init || c?.restartPolicy === 'Always'),
    ),
  );
}

/**
 * Services whose selector matches no pod that any object would make (workload templates, bare pods,
 * the operators' pods), and Services whose named targetPort none of the selected pods declares. A
 * cluster accepts both; the Service then has no endpoints, or none for that port.
 */
export function serviceSelectorFindings(ctx: CheckContext): Finding[] {
  const templates = podTemplates(ctx.rendered);
  const out: Finding[] = [];
  for (const r of ctx.rendered) {
    const svc = r.object;
    if (svc.apiVersion !== 'v1' || svc.kind !== 'Service') continue;
    if (svc.spec?.type === 'ExternalName') continue;
    const selector: Record<string, string> | undefined = svc.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) continue; // endpoints managed by hand
    const ns = svc.metadata.namespace ?? 'default';
    const selected = templates.filter((t) => t.namespace === ns && matchesMap(selector, t.labels));
    if (selected.length === 0) {
      out.push(
        objectFinding(ctx, r, {
          severity: 'warning',
          check: 'services',
          field: 'spec.selector',
          message: `selects no pod: no workload, pod or operator of the manifests makes pods in ${ns} labelled ${Object.entries(
            selector,
          )
            .map(([k, v]) => `${k}=${v}`)
            .join(',')}`,
          cluster:
            'creates the Service with no endpoints: connections to it are refused (or time out) and DNS names resolve to an address that serves nothing',
        }),
      );
      continue;
    }
    const withSpecs = selected.filter((t) => t.spec);
    if (withSpecs.length === 0) continue; // operators' pods: their ports are the operator's
    (svc.spec?.ports ?? []).forEach((p: any, i: number) => {
      const target = p?.targetPort;
      if (typeof target !== 'string') return;
      const protocol = p?.protocol ?? 'TCP';
      if (withSpecs.some((t) => declaresPortName(t, target, protocol))) return;
      out.push(
        objectFinding(ctx, r, {
          severity: 'error',
          check: 'services',
          field: `spec.ports[${i}].targetPort`,
          message: `targetPort "${target}" (${protocol}) is a port name that no container of the selected pods declares (${withSpecs.map((t) => t.owner).join(', ')})`,
          cluster: `leaves those pods out of the port's endpoints: the Service has no endpoint for port ${p?.port} and its connections are refused`,
        }),
      );
    });
  }
  return out;
}
