import { matchesMap, matchesSelector } from '../../kube/labels.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { BuiltinIngressClass } from '../profiles/profile-registry.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';
import { classOfIngress, ingressBackends, ingressClassesOf } from './ingress-classes.ts';
import { containersOf, type PodTemplate, podTemplates } from './pod-templates.ts';

/** A pod's port as a NetworkPolicy rule sees it: its number and (when declared) its name. */
interface PodPort {
  number?: number;
  name?: string;
}

function namespaceLabels(ns: string, objects: readonly KubeObject[]): Record<string, string> {
  const o = objects.find((n) => n.apiVersion === 'v1' && n.kind === 'Namespace' && n.metadata.name === ns);
  // the control plane sets kubernetes.io/metadata.name on every namespace
  return { ...(o?.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns };
}

/** Whether a policy isolates the pod for ingress: it selects the pod and has Ingress in its policyTypes (the default). */
function isolatesIngress(policy: KubeObject, t: PodTemplate): boolean {
  const types: string[] = policy.spec?.policyTypes ?? ['Ingress'];
  return types.includes('Ingress') && matchesSelector(policy.spec?.podSelector ?? {}, t.labels);
}

/** Whether one ingress rule of a policy in `policyNs` admits the source pods on the port. */
function ruleAdmits(
  rule: any,
  policyNs: string,
  source: BuiltinIngressClass['pods'],
  sourceNsLabels: Record<string, string>,
  port: PodPort,
): boolean {
  const from: any[] = rule?.from ?? [];
  const peerOk =
    from.length === 0 ||
    from.some((peer) => {
      if (peer?.ipBlock) return false; // pod addresses are not what ipBlocks are for (implementation-defined)
      if (peer?.namespaceSelector)
        return (
          matchesSelector(peer.namespaceSelector, sourceNsLabels) &&
          (peer.podSelector === undefined || matchesSelector(peer.podSelector, source.labels))
        );
      return (
        peer?.podSelector !== undefined &&
        policyNs === source.namespace &&
        matchesSelector(peer.podSelector, source.labels)
      );
    });
  if (!peerOk) return false;
  const ports: any[] = rule?.ports ?? [];
  return (
    ports.length === 0 ||
    ports.some((p) => {
      if ((p?.protocol ?? 'TCP') !== 'TCP') return false;
      if (p?.port === undefined) return true;
      if (typeof p.port === 'string') return p.port === port.name;
      if (port.number === undefined) return false;
      return p.endPort !== undefined
        ? port.number >= p.port && port.number <= p.endPort
        : p.port === port.number;
    })
  );
}

/** The container port a Service's targetPort reaches in a pod template. */
function podPort(t: PodTemplate, targetPort: unknown): PodPort {
  const ports = containersOf(t).flatMap(({ c }) => (c?.ports ?? []) as any[]);
  if (typeof targetPort === 'string') {
    const p = ports.find((q) => q?.name === targetPort);
    return { name: targetPort, ...(p ? { number: p.containerPort } : {}) };
  }
  const p = ports.find((q) => q?.containerPort === targetPort);
  return { number: Number(targetPort), ...(p?.name ? { name: p.name } : {}) };
}

/**
 * Ingress traffic the NetworkPolicies drop, on a profile that enforces them and whose Ingress
 * controller runs as pods the check knows (Traefik in kube-system on k3s): for each backend of a
 * served Ingress, the pods behind its Service must be admitted from the controller's pods on their
 * target port by some policy that isolates them. Policies are read as the NetworkPolicy API defines
 * them (podSelector, namespaceSelector, both, ports with names and endPort); ipBlocks are not taken to
 * match pods. The AWS Load Balancer Controller's traffic comes from the ALB's subnets, which the
 * manifests' ipBlocks name: that is checked by the twin's NetworkPolicy enforcement, not here.
 */
export function ingressNetworkPolicyFindings(ctx: CheckContext): Finding[] {
  if (!ctx.profile.networkPolicy.enforced) return [];
  const { classes } = ingressClassesOf(ctx);
  const templates = podTemplates(ctx.rendered).filter((t) => t.spec);
  const policies = ctx.objects.filter(
    (o) => o.apiVersion === 'networking.k8s.io/v1' && o.kind === 'NetworkPolicy',
  );
  const out: Finding[] = [];
  for (const r of ctx.rendered) {
    const ing = r.object;
    if (ing.apiVersion !== 'networking.k8s.io/v1' || ing.kind !== 'Ingress') continue;
    const name = classOfIngress(ing, classes).name;
    const builtin = ctx.profile.ingressClasses.find((c) => c.name === name);
    if (!builtin) continue;
    const source = builtin.pods;
    const sourceNs = namespaceLabels(source.namespace, ctx.objects);
    const ns = ing.metadata.namespace ?? 'default';
    for (const b of ingressBackends(ing)) {
      const svc = ctx.objects.find(
        (o) =>
          o.apiVersion === 'v1' &&
          o.kind === 'Service' &&
          (o.metadata.namespace ?? 'default') === ns &&
          o.metadata.name === b.service,
      );
      const svcPort = (svc?.spec?.ports ?? []).find((p: any) =>
        b.port.number !== undefined ? p?.port === b.port.number : p?.name === b.port.name,
      );
      if (!svc || !svcPort) continue; // ingress-classes reports it
      for (const t of templates.filter(
        (p) => p.namespace === ns && matchesMap(svc.spec?.selector, p.labels),
      )) {
        const isolating = policies.filter(
          (p) => (p.metadata.namespace ?? 'default') === ns && isolatesIngress(p, t),
        );
        if (isolating.length === 0) continue;
        const port = podPort(t, svcPort.targetPort ?? svcPort.port);
        if (
          isolating.some((p) =>
            (p.spec?.ingress ?? []).some((rule: any) => ruleAdmits(rule, ns, source, sourceNs, port)),
          )
        )
          continue;
        out.push(
          objectFinding(ctx, r, {
            severity: 'error',
            check: 'network-policy',
            field: b.field,
            message: `the Ingress controller's pods (${source.namespace}, ${Object.entries(source.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(
                ',',
              )}) cannot reach ${t.owner} on port ${port.name ?? port.number}: NetworkPolicies ${isolating.map((p) => p.metadata.name).join(', ')} isolate its pods and none admits them`,
            cluster: `${ctx.profile.networkPolicy.by} drops the connections: requests through the Ingress to ${b.service} time out (the controller answers 504 Gateway Timeout)`,
          }),
        );
      }
    }
  }
  return out;
}
