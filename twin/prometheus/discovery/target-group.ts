/**
 * A group of targets from service discovery (discovery/targetgroup.Group): labels common to the
 * group, and per target its own labels (at least __address__). `source` identifies the group
 * within its provider; an update with no targets removes it.
 */
export interface TargetGroup {
  source: string;
  labels: Record<string, string>;
  targets: Array<Record<string, string>>;
}

/** Receives a provider's groups as they change (each call replaces the groups of those sources). */
export type TargetGroupSink = (groups: TargetGroup[]) => void;

/** A running discovery mechanism; `stop` ends its watches and timers. */
export interface Discoverer {
  stop(): void;
}

/** strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes `_`. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}
