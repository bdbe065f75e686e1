/**
 * error: a real cluster fails (an object is rejected, a pod never runs, traffic never arrives, a
 * drain never ends); warning: it runs, but not as the manifests mean (no backups, no autoscaling, a
 * Service with no endpoints); note: worth knowing, nothing fails (a container the twin emulates).
 */
export type Severity = 'error' | 'warning' | 'note';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'note'];

/** One static finding of `twin check`: where, what is wrong, and what a real cluster would do about it. */
export interface Finding {
  severity: Severity;
  /** The kind of check that made it (one file under system/check each): "storage", "secrets", … */
  check: string;
  /** The file that defines it, relative to the repository root (the manifest, addons.yaml, topology.yaml). */
  source: string;
  line?: number;
  /** "Deployment production/web" */
  object?: string;
  /** The field path, as the API server names fields ("spec.template.spec.containers[0].image"). */
  field?: string;
  message: string;
  /** What a real cluster of the profile does with it, in the words it uses (events, status, kubectl). */
  cluster: string;
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, note: 2 };

/** By file and line, then severity: the order an editor walks them. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      a.source.localeCompare(b.source) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      RANK[a.severity] - RANK[b.severity] ||
      a.check.localeCompare(b.check) ||
      a.message.localeCompare(b.message),
  );
}

/** `infra/x/k8s/base/a.yaml:12: error [storage] StatefulSet ns/db: spec.volumeClaimTemplates[0]: …` and the cluster line. */
export function formatFinding(f: Finding): string {
  const where = f.line === undefined ? f.source : `${f.source}:${f.line}`;
  const what = [f.object, f.field].filter(Boolean).join(': ');
  return `${where}: ${f.severity} [${f.check}] ${what ? `${what}: ` : ''}${f.message}\n    cluster: ${f.cluster}`;
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const out: Record<Severity, number> = { error: 0, warning: 0, note: 0 };
  for (const f of findings) out[f.severity]++;
  return out;
}
