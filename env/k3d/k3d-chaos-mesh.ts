import type { KubeObject } from '../../kube/object.ts';

/**
 * Reading Chaos Mesh's status of a chaos object on a cluster: its conditions (Selected, AllInjected,
 * AllRecovered, Paused) and its records, one per target ("namespace/pod" or "namespace/pod/container").
 */
export function chaosInjected(obj: KubeObject | undefined): boolean {
  return condition(obj, 'AllInjected') === 'True';
}

export function chaosTargets(obj: KubeObject | undefined): string[] {
  const records: Array<{ id?: string }> = obj?.status?.experiment?.containerRecords ?? [];
  const pods = records
    .map((r) => (r.id ?? '').split('/').slice(0, 2).join('/'))
    .filter((id) => id.includes('/'));
  return [...new Set(pods)].sort();
}

/** Why Chaos Mesh has not injected it (the Selected condition's reason, or the records not yet injected). */
export function chaosWaitingFor(obj: KubeObject | undefined): string {
  if (!obj) return 'the object is gone';
  const records: Array<{ id?: string; phase?: string }> = obj.status?.experiment?.containerRecords ?? [];
  const selected = (obj.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Selected');
  if (selected?.status === 'False') return `not selected: ${selected.reason ?? 'no pod matched'}`;
  const pending = records.filter((r) => r.phase !== 'Injected').map((r) => r.id);
  return pending.length > 0 ? `not injected yet: ${pending.join(', ')}` : 'no record yet';
}

function condition(obj: KubeObject | undefined, type: string): string | undefined {
  return (obj?.status?.conditions ?? []).find((c: { type: string }) => c.type === type)?.status;
}
