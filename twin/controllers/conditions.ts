export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
  [field: string]: unknown;
}

export function findCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Sets a condition as the API conventions require: lastTransitionTime moves only when status changes.
 * `updateTime` adds lastUpdateTime (Deployment conditions carry it): refreshed when status, reason or
 * message change, or always (progress was made).
 */
export function setCondition(
  conditions: Condition[],
  next: { type: string; status: Condition['status']; reason?: string; message?: string },
  now: number,
  updateTime: 'none' | 'on-change' | 'always' = 'none',
): Condition[] {
  const ts = new Date(now).toISOString();
  const current = findCondition(conditions, next.type);
  const cond: Condition = { ...next };
  if (updateTime !== 'none') cond.lastUpdateTime = ts;
  cond.lastTransitionTime = current && current.status === next.status ? current.lastTransitionTime : ts;
  if (
    current &&
    updateTime === 'on-change' &&
    current.status === next.status &&
    current.reason === next.reason &&
    current.message === next.message
  ) {
    cond.lastUpdateTime = current.lastUpdateTime ?? ts;
  }
  return [...conditions.filter((c) => c.type !== next.type), cond];
}

export function removeCondition(conditions: Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}
