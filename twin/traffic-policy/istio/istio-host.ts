/** The cluster's DNS domain, as Istio resolves short host names against it. */
const DOMAIN = 'svc.cluster.local';

/**
 * The Service a host of a VirtualService or DestinationRule names, resolved as Istio does: a short
 * name ("reviews") in the object's own namespace, "reviews.ns", "reviews.ns.svc" and the full
 * "reviews.ns.svc.cluster.local". Any other name (an external host, a wildcard) names no Service.
 */
export function serviceOfHost(
  host: string,
  namespace: string,
): { namespace: string; name: string } | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h.includes('*')) return undefined;
  const parts = h.split('.');
  if (parts.length === 1) return { namespace, name: parts[0]! };
  if (parts.length === 2) return { namespace: parts[1]!, name: parts[0]! };
  if (parts.length === 3 && parts[2] === 'svc') return { namespace: parts[1]!, name: parts[0]! };
  if (h.endsWith(`.${DOMAIN}`) && parts.length === 5) return { namespace: parts[1]!, name: parts[0]! };
  return undefined;
}

export function serviceFqdn(s: { namespace: string; name: string }): string {
  return `${s.name}.${s.namespace}.${DOMAIN}`;
}

/** Whether a request's host (its Host header without the port) matches a VirtualService or Gateway host ("*", "*.example.com"). */
export function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === '*') return true;
  if (p.startsWith('*.')) return h.endsWith(p.slice(1));
  return p === h;
}

/** The host of a Host header ("api.example.com:8080" → "api.example.com"). */
export function hostOfAuthority(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1);
  const i = authority.lastIndexOf(':');
  return i < 0 ? authority : authority.slice(0, i);
}
