/**
 * intstr.GetScaledValueFromIntOrPercent: an integer as is, or "25%" of total rounded up or down.
 * Rounding is the caller's: maxSurge rounds up, maxUnavailable rounds down.
 */
export function scaledValue(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  fallback: number | string,
): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v.trim());
  if (!m) {
    const n = Number(v);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: "${v}"`);
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
