import path from 'node:path';
import type { KubeObject } from '../../kube/object.ts';

/** An object from the manifests, with the file it was written in (relative to the working directory). */
export interface RenderedObject {
  object: KubeObject;
  source: string;
}

/** A file path as messages show it: relative to cwd when inside it, with forward slashes. */
export function displayPath(file: string, cwd: string): string {
  const abs = path.resolve(cwd, file);
  const rel = path.relative(cwd, abs);
  const shown = rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  return shown.split(path.sep).join('/');
}
