/** The environments `--env` accepts; env/registry.ts maps each to its backend (kept apart so the CLI starts fast). */
export const ENVIRONMENT_NAMES = ['local', 'k3d', 'cluster'];
