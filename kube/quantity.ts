/** Resource quantities as Kubernetes writes them ("500m", "2", "1Gi", "512M", "1e3"). */
const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** Parses a quantity into its numeric value in base units; throws on a malformed quantity. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = QUANTITY.exec(q.trim());
  if (!m)
    throw new Error(
      `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': "${q}"`,
    );
  const n = Number(m[1]);
  // Kubernetes: "unable to parse numeric part of quantity" ("." or "1.2.3" pass the pattern above).
  if (!Number.isFinite(n)) throw new Error(`unable to parse numeric part of quantity: "${q}"`);
  const suffix = m[2] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** CPU in millicores ("500m" → 500, "2" → 2000). */
export function cpuMillis(q: string | number | undefined): number {
  return q === undefined ? 0 : Math.round(parseQuantity(q) * 1000);
}

/** Memory (or any non-CPU resource) in base units, bytes for memory. */
export function bytes(q: string | number | undefined): number {
  return q === undefined ? 0 : Math.round(parseQuantity(q));
}

/** Value of a resource in the unit the scheduler compares: millicores for cpu, base units otherwise. */
export function resourceValue(resource: string, q: string | number | undefined): number {
  return resource === 'cpu' ? cpuMillis(q) : bytes(q);
}
