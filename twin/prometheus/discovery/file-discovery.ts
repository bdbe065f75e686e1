import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { Clock } from '../../../kube/clock.ts';
import type { FileSdConfig } from '../config/prometheus-config.ts';
import { isValidLabelName } from '../labels.ts';
import type { Discoverer, TargetGroup, TargetGroupSink } from './target-group.ts';

/**
 * file_sd_configs: JSON or YAML files (a glob in the last path element), each a list of
 * `{targets, labels}` groups; every group gets `__meta_filepath`. Files are re-read when they
 * change and every refresh_interval; a file that can no longer be read keeps its last groups, one
 * that is gone loses them.
 */
export function fileTargetGroups(file: string, text: string): TargetGroup[] {
  const raw = file.endsWith('.json') ? JSON.parse(text) : parse(text);
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) throw new Error(`${file}: expected a list of target groups`);
  return raw.map((g: any, i: number) => {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(g?.labels ?? {})) {
      if (!isValidLabelName(k)) throw new Error(`${JSON.stringify(k)} is not a valid label name`);
      labels[k] = String(v);
    }
    const targets: string[] = g?.targets ?? [];
    return {
      source: `${file}:${i}`,
      labels: { ...labels, __meta_filepath: file },
      targets: targets.map((t) => ({ __address__: String(t) })),
    };
  });
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const c of pattern) {
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function expand(patterns: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of patterns) {
    const dir = path.dirname(p);
    const base = path.basename(p);
    if (!/[*?]/.test(base)) {
      files.push(p);
      continue;
    }
    const re = globToRegExp(base);
    try {
      for (const name of await readdir(dir)) if (re.test(name)) files.push(path.join(dir, name));
    } catch {}
  }
  return files;
}

export function startFileDiscovery(
  config: FileSdConfig,
  sink: TargetGroupSink,
  clock: Clock,
  log: (m: string) => void,
): Discoverer {
  const known = new Map<string, string[]>();
  let stopped = false;
  let running: Promise<void> | undefined;
  const refresh = async () => {
    const files = await expand(config.files);
    const updates: TargetGroup[] = [];
    for (const file of files) {
      let groups: TargetGroup[];
      try {
        groups = fileTargetGroups(file, await readFile(file, 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          log(`Error reading file ${file}: ${(err as Error).message}`);
        continue;
      }
      const previous = known.get(file) ?? [];
      for (const source of previous.slice(groups.length)) updates.push({ source, labels: {}, targets: [] });
      known.set(
        file,
        groups.map((g) => g.source),
      );
      updates.push(...groups);
    }
    for (const [file, sources] of known) {
      if (files.includes(file)) continue;
      for (const source of sources) updates.push({ source, labels: {}, targets: [] });
      known.delete(file);
    }
    if (!stopped && updates.length > 0) sink(updates);
  };
  const trigger = () => {
    running = (running ?? Promise.resolve()).then(refresh, refresh);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(config.files.map((f) => path.dirname(f)))) {
    try {
      const w = watch(dir, () => trigger());
      w.on('error', () => {});
      watchers.push(w);
    } catch {}
  }
  const stopTimer = clock.every(config.refreshIntervalMs, trigger);
  trigger();
  return {
    stop() {
      stopped = true;
      stopTimer();
      for (const w of watchers) w.close();
    },
  };
}
