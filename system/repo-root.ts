import path from 'node:path';

/** The repository root: infra/<system>/, the reference workloads and .twin/ live under it. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
