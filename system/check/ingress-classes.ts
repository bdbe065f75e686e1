import type { KubeObject } from '../../kube/object.ts';
import { clusterCapabilities, DEFAULT_INGRESS_CLASS_ANNOTATION } from '../profiles/cluster-capabilities.ts';
import type { RenderedObject } from '../render/rendered-object.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';

const CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const ALB_CONTROLLER = 'ingress.k8s.aws/alb';

export interface KnownIngressClass {
  name: string;
  controller: string;
  default: boolean;
  /** Where it comes from: the manifests, the cluster, an add-on's install. */
  origin: string;
}

/** The IngressClasses a cluster of the profile has (its own, its add-ons', the manifests'), and the controllers that run in it. */
export function ingressClassesOf(ctx: CheckContext): {
  classes: KnownIngressClass[];
  controllers: Map<string, string>;
} {
  const caps = clusterCapabilities(ctx.profile, ctx.addons);
  const classes: KnownIngressClass[] = [
    ...caps.ingressClasses.map(({ object, origin }) => known(object, origin)),
    ...ctx.objects
      .filter((o) => o.apiVersion === 'networking.k8s.io/v1' && o.kind === 'IngressClass')
      .map((o) => known(o, 'the manifests')),
  ];
  return { classes, controllers: caps.ingressControllers };
}

function known(o: KubeObject, origin: string): KnownIngressClass {
  return {
    name: o.metadata.name,
    controller: String(o.spec?.controller ?? ''),
    default: o.metadata.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true',
    origin,
  };
}

/** The class of an Ingress: spec.ingressClassName, the deprecated annotation, else the default class. */
export function classOfIngress(
  ing: KubeObject,
  classes: readonly KnownIngressClass[],
): { name?: string; field: string; defaults: KnownIngressClass[] } {
  if (typeof ing.spec?.ingressClassName === 'string')
    return { name: ing.spec.ingressClassName, field: 'spec.ingressClassName', defaults: [] };
  const annotated = ing.metadata.annotations?.[CLASS_ANNOTATION];
  if (annotated) return { name: annotated, field: `metadata.annotations[${CLASS_ANNOTATION}]`, defaults: [] };
  const defaults = classes.filter((c) => c.default);
  return { ...(defaults.length === 1 ? { name: defaults[0]!.name } : {}), field: 'spec', defaults };
}

/** Every backend of an Ingress with its field path. */
export function ingressBackends(
  ing: KubeObject,
): { service: string; port: { number?: number; name?: string }; field: string }[] {
  const out: { service: string; port: { number?: number; name?: string }; field: string }[] = [];
  const svc = ing.spec?.defaultBackend?.service;
  if (svc?.name) out.push({ service: svc.name, port: svc.port ?? {}, field: 'spec.defaultBackend.service' });
  (ing.spec?.rules ?? []).forEach((rule: any, i: number) => {
    (rule?.http?.paths ?? []).forEach((p: any, j: number) => {
      const s = p?.backend?.service;
      if (s?.name)
        out.push({
          service: s.name,
          port: s.port ?? {},
          field: `spec.rules[${i}].http.paths[${j}].backend.service`,
        });
    });
  });
  return out;
}

/**
 * Ingresses that no controller of the profile's cluster serves: no class (and no single default
 * class), a class that does not exist, a class whose controller does not run there (alb on k3s). For
 * the served ones, backends naming a Service or Service port that does not exist (the ALB's
 * `use-annotation` port is the AWS Load Balancer Controller's own).
 */
export function ingressClassFindings(ctx: CheckContext): Finding[] {
  const { classes, controllers } = ingressClassesOf(ctx);
  const out: Finding[] = [];
  const names = classes.map((c) => `${c.name} (${c.controller}, ${c.origin})`).join(', ') || 'none';
  const noTraffic = 'no controller picks it up: it never gets an address, and nothing reaches its backends';
  for (const r of ctx.rendered) {
    const ing = r.object;
    if (ing.apiVersion !== 'networking.k8s.io/v1' || ing.kind !== 'Ingress') continue;
    const cls = classOfIngress(ing, classes);
    const report = (severity: Finding['severity'], field: string, message: string, cluster: string) =>
      out.push(objectFinding(ctx, r, { severity, check: 'ingress', field, message, cluster }));
    if (cls.name === undefined) {
      report(
        'error',
        'spec.ingressClassName',
        cls.defaults.length > 1
          ? `names no IngressClass, and several are marked default (${cls.defaults.map((c) => c.name).join(', ')})`
          : `names no IngressClass, and the ${ctx.profile.title} cluster has no default class (its classes: ${names})`,
        cls.defaults.length > 1
          ? 'the API server refuses it (more than one default IngressClass)'
          : noTraffic,
      );
      continue;
    }
    const known = classes.find((c) => c.name === cls.name);
    if (!known) {
      report(
        'error',
        cls.field,
        `IngressClass "${cls.name}" does not exist on the ${ctx.profile.title} cluster (its classes: ${names})`,
        noTraffic,
      );
      continue;
    }
    if (!controllers.has(known.controller)) {
      report(
        'error',
        cls.field,
        `IngressClass "${known.name}" is served by ${known.controller}, and no such controller runs on the ${ctx.profile.title} cluster (controllers: ${[...controllers.keys()].join(', ') || 'none'})`,
        noTraffic,
      );
      continue;
    }
    out.push(...backendFindings(ctx, r, known.controller));
  }
  return out;
}

function backendFindings(ctx: CheckContext, r: RenderedObject, controller: string): Finding[] {
  const ing = r.object;
  const ns = ing.metadata.namespace ?? 'default';
  const out: Finding[] = [];
  const cluster =
    controller === ALB_CONTROLLER
      ? 'the AWS Load Balancer Controller fails to build the whole Ingress (FailedBuildModel) and changes nothing on the ALB'
      : 'the controller drops the route (its requests get 404 or 503)';
  for (const b of ingressBackends(ing)) {
    if (controller === ALB_CONTROLLER && b.port.name === 'use-annotation') continue;
    const svc = ctx.objects.find(
      (o) =>
        o.apiVersion === 'v1' &&
        o.kind === 'Service' &&
        (o.metadata.namespace ?? 'default') === ns &&
        o.metadata.name === b.service,
    );
    if (!svc) {
      out.push(
        objectFinding(ctx, r, {
          severity: 'error',
          check: 'ingress',
          field: `${b.field}.name`,
          message: `backend Service ${ns}/${b.service} is not defined`,
          cluster,
        }),
      );
      continue;
    }
    const ports: any[] = svc.spec?.ports ?? [];
    const ok =
      b.port.number !== undefined
        ? ports.some((p) => p?.port === b.port.number)
        : ports.some((p) => p?.name === b.port.name);
    if (!ok)
      out.push(
        objectFinding(ctx, r, {
          severity: 'error',
          check: 'ingress',
          field: `${b.field}.port`,
          message: `Service ${ns}/${b.service} has no port ${b.port.number ?? `named "${b.port.name}"`} (its ports: ${ports.map((p) => (p?.name ? `${p.name}:${p.port}` : p?.port)).join(', ')})${b.port.name === 'use-annotation' ? "; use-annotation is the AWS Load Balancer Controller's own, other controllers take it as a port name" : ''}`,
          cluster,
        }),
      );
  }
  return out;
}
