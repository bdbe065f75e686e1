/**
 * kube-controller-manager's node-lifecycle flags and the kubelet's heartbeat, with their documented
 * defaults (docs/zones-and-nodes.md names the page of each). All durations are control-plane seconds.
 */
export interface NodeLifecycleSettings {
  /** --node-monitor-period: how often the controller checks node health. */
  nodeMonitorPeriodSeconds: number;
  /** --node-monitor-grace-period: a node whose heartbeat is older than this is marked Unknown. */
  nodeMonitorGracePeriodSeconds: number;
  /** The kubelet renews its node Lease every 10 s (a quarter of the 40 s lease duration). */
  leaseRenewIntervalSeconds: number;
  /** --node-eviction-rate: nodes per second tainted (and so evicted) per zone while the zone is healthy. */
  nodeEvictionRate: number;
  /** --secondary-node-eviction-rate: per-zone rate while the zone is partially disrupted in a large cluster. */
  secondaryNodeEvictionRate: number;
  /** --unhealthy-zone-threshold: share of not-Ready nodes (at least 3) that makes a zone partially disrupted. */
  unhealthyZoneThreshold: number;
  /** --large-cluster-size-threshold: a zone with at most this many nodes stops evicting when partially disrupted. */
  largeClusterSizeThreshold: number;
  /** DefaultTolerationSeconds admission: --default-not-ready-toleration-seconds. */
  defaultNotReadyTolerationSeconds: number;
  /** DefaultTolerationSeconds admission: --default-unreachable-toleration-seconds. */
  defaultUnreachableTolerationSeconds: number;
}

export const NODE_LIFECYCLE_DEFAULTS: Readonly<NodeLifecycleSettings> = Object.freeze({
  nodeMonitorPeriodSeconds: 5,
  nodeMonitorGracePeriodSeconds: 50,
  leaseRenewIntervalSeconds: 10,
  nodeEvictionRate: 0.1,
  secondaryNodeEvictionRate: 0.01,
  unhealthyZoneThreshold: 0.55,
  largeClusterSizeThreshold: 50,
  defaultNotReadyTolerationSeconds: 300,
  defaultUnreachableTolerationSeconds: 300,
});

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
