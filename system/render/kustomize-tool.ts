import { access, constants } from 'node:fs/promises';
import path from 'node:path';

/** How to run kustomize here: `kubectl kustomize` (kubectl bundles kustomize) or `kustomize build`. */
export interface KustomizeTool {
  command: string;
  args: string[];
}

/** Finds kubectl, then kustomize, on the PATH (or on `searchPath`, a PATH-style list). */
export async function findKustomizeTool(
  searchPath = process.env['PATH'] ?? '',
): Promise<KustomizeTool | undefined> {
  const kubectl = await onPath('kubectl', searchPath);
  if (kubectl) return { command: kubectl, args: ['kustomize'] };
  const kustomize = await onPath('kustomize', searchPath);
  if (kustomize) return { command: kustomize, args: ['build'] };
  return undefined;
}

async function onPath(name: string, searchPath: string): Promise<string | undefined> {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const file = path.join(dir, name + ext);
      if (
        await access(file, constants.X_OK).then(
          () => true,
          () => false,
        )
      )
        return file;
    }
  }
  return undefined;
}
