/** The profiles `--profile` accepts; system/profiles/profile-registry.ts maps each to its ClusterProfile (kept apart so the CLI starts fast). */
export const PROFILE_NAMES: readonly string[] = ['eks', 'k3s'];
