import { type Label, type Labels, LabelsBuilder, labelsFrom } from '../labels.ts';
import { type RelabelConfig, relabel } from '../relabel.ts';

/**
 * The labels a scraped sample is stored with (scrape/scrape.go mutateSampleLabels): the target's
 * labels are added; on a clash, honor_labels keeps the exposed value, otherwise the target's wins
 * and the exposed one moves to `exported_<name>` (repeated until free); then
 * metric_relabel_configs. Undefined when relabelling drops the sample.
 */
export function sampleLabels(
  exposed: readonly Label[],
  target: Labels,
  honorLabels: boolean,
  metricRelabel: readonly RelabelConfig[],
): Labels | undefined {
  const lset = labelsFrom(exposed.map((l) => [l.name, l.value] as const));
  const lb = new LabelsBuilder(lset);
  if (honorLabels) {
    for (const l of target) if (!lset.some((x) => x.name === l.name)) lb.set(l.name, l.value);
  } else {
    const conflicts: Label[] = [];
    for (const l of target) {
      const existing = lset.find((x) => x.name === l.name)?.value ?? '';
      if (existing !== '') conflicts.push({ name: l.name, value: existing });
      lb.set(l.name, l.value);
    }
    conflicts.sort((a, b) => a.name.length - b.name.length);
    for (const c of conflicts) {
      let name = c.name;
      for (;;) {
        name = `exported_${name}`;
        if (lb.get(name) === '') {
          lb.set(name, c.value);
          break;
        }
      }
    }
  }
  const labels = lb.labels();
  if (metricRelabel.length === 0) return labels;
  const out = relabel(labels, metricRelabel);
  return out && out.length > 0 ? out : undefined;
}

/** The labels of up, scrape_duration_seconds, …: the metric name and the target's labels. */
export function reportLabels(name: string, target: Labels): Labels {
  return new LabelsBuilder(target).set('__name__', name).labels();
}
