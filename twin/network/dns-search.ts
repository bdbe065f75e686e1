/**
 * The resolv.conf a kubelet gives pods (ClusterFirst): `search <ns>.svc.cluster.local
 * svc.cluster.local cluster.local` with `options ndots:5`. Names with fewer than five dots are tried
 * with each search domain first, then as given; a trailing dot means the name is absolute.
 * dns-preload.mjs repeats this logic for live pods, which cannot import TypeScript.
 */
export const CLUSTER_DOMAIN = 'cluster.local';
const NDOTS = 5;

export function searchDomains(namespace?: string): string[] {
  const domains = [`svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN];
  return namespace ? [`${namespace}.svc.${CLUSTER_DOMAIN}`, ...domains] : domains;
}

/** The fully qualified names to try for `name`, in order. */
export function candidateNames(name: string, namespace?: string): string[] {
  const lower = name.toLowerCase();
  if (lower.endsWith('.')) return [lower.slice(0, -1)];
  const expanded = searchDomains(namespace).map((d) => `${lower}.${d}`);
  const dots = lower.split('.').length - 1;
  return dots >= NDOTS ? [lower, ...expanded] : [...expanded, lower];
}
