import type { WeightedCluster } from './route-table.ts';

/** Envoy weighted_clusters: a destination drawn at random in proportion to its weight. */
export function pickWeighted(
  clusters: readonly WeightedCluster[],
  random: () => number = Math.random,
): WeightedCluster | undefined {
  const total = clusters.reduce((n, c) => n + c.weight, 0);
  if (total <= 0) return clusters[0];
  let r = random() * total;
  for (const c of clusters) {
    if (r < c.weight) return c;
    r -= c.weight;
  }
  return clusters[clusters.length - 1];
}
