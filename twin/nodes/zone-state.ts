import type { NodeLifecycleSettings } from './node-lifecycle-defaults.ts';

export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

/**
 * ComputeZoneState of the node lifecycle controller: a zone with no Ready node (and some node) is
 * fully disrupted; one with more than 2 not-Ready nodes making up at least the unhealthy-zone
 * threshold of its nodes is partially disrupted.
 */
export function computeZoneState(
  readyConditions: Array<'True' | 'False' | 'Unknown' | undefined>,
  unhealthyZoneThreshold: number,
): { notReady: number; state: ZoneState } {
  let ready = 0;
  let notReady = 0;
  for (const c of readyConditions) {
    if (c === 'True') ready++;
    else notReady++;
  }
  if (ready === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (ready + notReady) >= unhealthyZoneThreshold)
    return { notReady, state: 'PartialDisruption' };
  return { notReady, state: 'Normal' };
}

/**
 * The per-zone eviction (NoExecute tainting) rate for a zone state (setLimiterInZone /
 * ReducedQPSFunc): the normal rate when the zone is healthy or completely down, the secondary rate
 * for a partially disrupted zone larger than the large-cluster threshold, and 0 (no evictions) for a
 * partially disrupted smaller zone. When every zone is fully disrupted nothing is evicted at all.
 */
export function zoneEvictionQps(
  state: ZoneState,
  zoneSize: number,
  allZonesFullyDisrupted: boolean,
  s: Pick<
    NodeLifecycleSettings,
    'nodeEvictionRate' | 'secondaryNodeEvictionRate' | 'largeClusterSizeThreshold'
  >,
): number {
  if (allZonesFullyDisrupted) return 0;
  switch (state) {
    case 'Normal':
    case 'FullDisruption':
      return s.nodeEvictionRate;
    case 'PartialDisruption':
      return zoneSize > s.largeClusterSizeThreshold ? s.secondaryNodeEvictionRate : 0;
  }
}
