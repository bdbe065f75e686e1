import type { KubeObject } from '../../kube/object.ts';

/** A backend as an Ingress names it: a Service port by number or name, or a resource. */
export interface IngressBackend {
  service?: { name: string; port: number | string };
  resource?: { apiGroup?: string; kind: string; name: string };
}

interface CompiledPath {
  type: 'Exact' | 'Prefix';
  path: string;
  segments: string[];
  backend: IngressBackend;
}

interface CompiledRule {
  /** Lower-cased host; '' for any host; "*.example.com" for wildcards. */
  host: string;
  paths: CompiledPath[];
}

export interface IngressRoutes {
  rules: CompiledRule[];
  defaultBackend: IngressBackend | undefined;
}

/** The routing table of a networking.k8s.io/v1 Ingress. */
export function compileIngress(ingress: KubeObject): IngressRoutes {
  const rules: CompiledRule[] = [];
  for (const rule of (ingress.spec?.rules ?? []) as any[]) {
    const paths: CompiledPath[] = [];
    for (const p of (rule.http?.paths ?? []) as any[]) {
      const backend = backendOf(p.backend);
      if (!backend) continue;
      const path: string = p.path ?? '/';
      // ImplementationSpecific is left to the controller; the twin treats it as Prefix.
      const type = p.pathType === 'Exact' ? 'Exact' : 'Prefix';
      paths.push({ type, path, segments: segmentsOf(path), backend });
    }
    rules.push({ host: (rule.host ?? '').toLowerCase(), paths });
  }
  return { rules, defaultBackend: backendOf(ingress.spec?.defaultBackend) };
}

function backendOf(b: any): IngressBackend | undefined {
  if (b?.service?.name) {
    const port = b.service.port?.number ?? b.service.port?.name;
    return { service: { name: b.service.name, port } };
  }
  // extensions/v1beta1 shape, still found in older manifests.
  if (b?.serviceName) return { service: { name: b.serviceName, port: b.servicePort } };
  if (b?.resource) return { resource: b.resource };
  return undefined;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** Does a rule's host match the request's Host (exact, or `*.` wildcard over exactly one label)? */
export function hostMatches(ruleHost: string, host: string): boolean {
  if (ruleHost === '') return true;
  if (ruleHost.startsWith('*.')) {
    const suffix = ruleHost.slice(1);
    if (!host.endsWith(suffix)) return false;
    const label = host.slice(0, -suffix.length);
    return label.length > 0 && !label.includes('.');
  }
  return ruleHost === host;
}

/**
 * Path matching as the Ingress documentation states it: Exact matches the whole path, case-sensitive;
 * Prefix matches element by element on `/`-separated elements, ignoring a trailing slash
 * (`/foo/bar` matches `/foo/bar/baz` but not `/foo/barbaz`). Returns the match's length, or -1.
 */
export function pathMatch(
  p: { type: 'Exact' | 'Prefix'; path: string; segments?: string[] },
  requestPath: string,
): number {
  if (p.type === 'Exact') return requestPath === p.path ? p.path.length : -1;
  const want = p.segments ?? segmentsOf(p.path);
  const got = segmentsOf(requestPath);
  if (want.length > got.length) return -1;
  for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) return -1;
  return want.join('/').length + 1;
}

/**
 * The backend for a request. Rules for the exact host come before wildcard rules, which come before
 * rules for any host; within them the longest matching path wins, Exact before Prefix at equal length.
 * No match: the defaultBackend (undefined when there is none, a 404).
 */
export function routeRequest(
  routes: IngressRoutes,
  hostHeader: string | undefined,
  url: string,
): IngressBackend | undefined {
  const host = stripPort((hostHeader ?? '').toLowerCase());
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  for (const tier of [0, 1, 2]) {
    let best: CompiledPath | undefined;
    let bestLen = -1;
    for (const rule of routes.rules) {
      const ruleTier = rule.host === '' ? 2 : rule.host.startsWith('*.') ? 1 : 0;
      if (ruleTier !== tier || !hostMatches(rule.host, host)) continue;
      for (const p of rule.paths) {
        const len = pathMatch(p, path);
        if (len < 0) continue;
        if (len > bestLen || (len === bestLen && p.type === 'Exact' && best?.type !== 'Exact')) {
          best = p;
          bestLen = len;
        }
      }
    }
    if (best) return best.backend;
  }
  return routes.defaultBackend;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}
