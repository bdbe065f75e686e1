import type { NodePool, Topology } from './topology-schema.ts';

/**
 * A laptop-sized copy of a topology: every pool keeps every zone it runs in (so zone spread, zone
 * outages and pool selectors behave as in production) but at most `nodesPerPoolZone` nodes per zone;
 * a pool sized by `nodes` keeps at most that many per zone it covers.
 */
export function laptopTopology(
  topology: Topology,
  nodesPerPoolZone = 1,
): { topology: Topology; shrunk: string[] } {
  const shrunk: string[] = [];
  const pools: NodePool[] = topology.nodePools.map((pool) => {
    const zones = pool.zones ?? topology.zones;
    if (pool.nodesPerZone !== undefined) {
      const n = Math.min(pool.nodesPerZone, nodesPerPoolZone);
      if (n < pool.nodesPerZone)
        shrunk.push(`${pool.name}: ${pool.nodesPerZone} → ${n} per zone (${zones.length} zones)`);
      return { ...pool, nodesPerZone: n };
    }
    const max = zones.length * nodesPerPoolZone;
    const n = Math.min(pool.nodes ?? 0, max);
    if (n < (pool.nodes ?? 0)) shrunk.push(`${pool.name}: ${pool.nodes} → ${n} nodes`);
    return { ...pool, nodes: n };
  });
  return { topology: { ...topology, nodePools: pools }, shrunk };
}
