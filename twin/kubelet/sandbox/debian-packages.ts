import { spawnSync } from 'node:child_process';

const installed = new Map<string, boolean>();

/** Which of `packages` the machine's dpkg does not list as installed (all of them where there is no dpkg). */
export function missingPackages(packages: string[]): string[] {
  const unknown = packages.filter((p) => !installed.has(p));
  if (unknown.length > 0) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format fields
    const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...unknown], {
      encoding: 'utf8',
    });
    const status = new Map<string, string>();
    for (const line of (r.stdout ?? '').split('\n')) {
      const [name, state] = line.trim().split(/\s+/);
      if (name) status.set(name.split(':')[0]!, state ?? '');
    }
    for (const p of unknown) installed.set(p, status.get(p) === 'installed');
  }
  return packages.filter((p) => !installed.get(p));
}
