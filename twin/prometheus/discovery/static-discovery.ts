import type { StaticConfig } from '../config/prometheus-config.ts';
import type { TargetGroup } from './target-group.ts';

/** static_configs: one group per entry, source "<index>" as Prometheus numbers them. */
export function staticTargetGroups(configs: readonly StaticConfig[]): TargetGroup[] {
  return configs.map((c, i) => ({
    source: String(i),
    labels: { ...c.labels },
    targets: c.targets.map((t) => ({ __address__: t })),
  }));
}
