import { TwinError } from '../../core/errors.ts';
import type { AnalysisArg, Metric } from './types.ts';

const PLACEHOLDER = /\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}/g;

/**
 * Merges template args (defaults) with the args the Rollout passes (MergeArgs): a Rollout arg
 * replaces the template's value; an arg the Rollout passes that no template declares is an error.
 */
export function mergeArgs(incoming: AnalysisArg[], templateArgs: AnalysisArg[]): AnalysisArg[] {
  const merged = templateArgs.map((a) => ({ ...a }));
  for (const arg of incoming) {
    const i = merged.findIndex((m) => m.name === arg.name);
    if (i < 0)
      throw new TwinError('TWIN_INVALID', `arg "${arg.name}" is not declared by the analysis templates`);
    merged[i] = { ...arg };
  }
  return merged;
}

/** Replaces `{{args.name}}` in every string of a metric; an arg without a value is an error, as in Argo. */
export function substituteArgs(metric: Metric, args: AnalysisArg[]): Metric {
  const values = new Map(args.map((a) => [a.name, a.value]));
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(PLACEHOLDER, (_m, name: string) => {
        const value = values.get(name);
        if (value === undefined) throw new TwinError('TWIN_INVALID', `args.${name} was not resolved`);
        return value;
      });
    }
    if (Array.isArray(v)) return v.map(visit);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x)]));
    return v;
  };
  return visit(metric) as Metric;
}

/** Reads a fieldRef path ("metadata.name", "metadata.labels['app']", "spec.template.metadata.labels.app") from an object. */
export function readFieldPath(obj: unknown, fieldPath: string): string | undefined {
  const parts: string[] = [];
  const re = /([^.[\]]+)|\[['"]([^'"]+)['"]\]/g;
  for (const m of fieldPath.matchAll(re)) parts.push(m[1] ?? m[2]!);
  let cur: unknown = obj;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'string' ? cur : JSON.stringify(cur);
}
