import { accessSync, constants, readdirSync } from 'node:fs';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';

export interface BinarySearch {
  /** Executable name, e.g. "redis-server". */
  name: string;
  /** The Debian package that provides it, named in the error when it is missing. */
  debianPackage: string;
  /** Directories searched before the PATH (e.g. from PG_BIN). */
  dirs?: string[];
  env?: NodeJS.ProcessEnv;
}

/** The absolute path of an executable, searched in `dirs` and then the PATH; undefined when absent. */
export function findBinary(search: Omit<BinarySearch, 'debianPackage'>): string | undefined {
  const env = search.env ?? process.env;
  const dirs = [...(search.dirs ?? []), ...(env['PATH'] ?? '').split(path.delimiter)].filter(Boolean);
  for (const dir of dirs) {
    const file = path.join(dir, search.name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

/** As findBinary, but a missing executable is a TwinError naming the Debian package to install. */
export function requireBinary(search: BinarySearch): string {
  const found = findBinary(search);
  if (found) return found;
  throw new TwinError(
    'TWIN_BINARY_NOT_FOUND',
    `${search.name} not found (searched ${[...(search.dirs ?? []), '$PATH'].join(', ')}); install the Debian package \`${search.debianPackage}\` (apt-get install -y ${search.debianPackage})`,
  );
}

/** Debian's versioned layout /usr/lib/postgresql/<major>/bin, newest major first. */
export function debianPostgresBinDirs(root = '/usr/lib/postgresql'): string[] {
  try {
    return readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => path.join(root, v, 'bin'));
  } catch {
    return [];
  }
}
