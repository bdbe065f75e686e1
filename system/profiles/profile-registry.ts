import { TwinError } from '../../core/errors.ts';
import type { ClusterProfile } from './cluster-profile.ts';
import { EKS_PROFILE } from './eks-profile.ts';
import { K3S_PROFILE } from './k3s-profile.ts';
import { PROFILE_NAMES } from './profile-names.ts';

export type { BuiltinIngressClass, ClusterProfile, LeftOutAddon } from './cluster-profile.ts';
export { EKS_PROFILE, K3S_PROFILE };

/** The profiles by name; eks (the seeds' production clusters) is the twin's default. */
export const PROFILES: readonly ClusterProfile[] = [EKS_PROFILE, K3S_PROFILE];
export { PROFILE_NAMES } from './profile-names.ts';
export const DEFAULT_PROFILE = EKS_PROFILE;

export function clusterProfile(name: string | undefined, option = '--profile'): ClusterProfile {
  if (name === undefined) return DEFAULT_PROFILE;
  const profile = PROFILES.find((p) => p.name === name);
  if (!profile)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `${option}: unknown profile "${name}" (known: ${PROFILE_NAMES.join(', ')})`,
    );
  return profile;
}
