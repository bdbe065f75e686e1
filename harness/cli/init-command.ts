import path from 'node:path';
import { initSystem } from '../../system/init/init-system.ts';
import { loadSystem, resolveSystem } from '../../system/system.ts';

export interface InitCommandOptions {
  name?: string;
  out?: string;
  overlay?: string;
  force?: boolean;
}

/**
 * `twin init <kustomize-dir>`: writes the system's twin files, prints what it inferred and what the
 * user must decide, then loads the system as a scenario would (render, validate, topology, bindings).
 */
export async function initCommand(
  root: string,
  kustomizeDir: string,
  opts: InitCommandOptions,
): Promise<number> {
  const report = await initSystem({
    root,
    kustomizeDir: path.resolve(kustomizeDir),
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(opts.out !== undefined ? { out: path.resolve(opts.out) } : {}),
    ...(opts.overlay !== undefined ? { overlay: opts.overlay } : {}),
    ...(opts.force ? { force: true } : {}),
  });
  const out = process.stdout;
  const shown = (p: string) => path.relative(process.cwd(), p) || p;
  out.write(`twin init: system ${report.name}, overlay ${report.overlay} (${report.objects} objects)\n`);
  for (const f of report.files) out.write(`  wrote ${shown(f)}\n`);
  out.write('\ninferred:\n');
  for (const line of report.inferred) out.write(`  - ${line}\n`);
  out.write('\nfor you to decide (could not be inferred from the manifests):\n');
  for (const line of report.decide) out.write(`  - ${line}\n`);
  const layout = await resolveSystem(report.name, root);
  const loaded = await loadSystem(layout, report.overlay);
  out.write(
    `\nloaded as a scenario loads it: ${loaded.rendered.length} objects valid, ${loaded.topology.nodePools.length} node pool(s), ${loaded.addons.length} add-on(s)\n`,
  );
  out.write(
    `next: npx twin scenario az-outage --system ${report.name} (also canary, postgres-failover; docs/own-system.md)\n`,
  );
  return 0;
}
