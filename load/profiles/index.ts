import { TwinError } from '../../core/errors.ts';
import { type LoadProfile, validateProfile } from '../profile.ts';
import smoke from './smoke.ts';
import soak from './soak.ts';
import spike from './spike.ts';
import steady from './steady.ts';

/** The seed profiles by name; a new profile adds a file here and a line below. */
const PROFILES = { smoke, steady, spike, soak };

export const PROFILE_NAMES = Object.keys(PROFILES);

/** The profiles `npm run gate` runs unless --profiles says otherwise (soak is too long for a gate). */
export const GATE_PROFILES = ['smoke', 'steady', 'spike'];

/**
 * The profiles the baseline records and the regression rule compares: the open-model (arrival-rate)
 * ones, whose throughput is set by the profile. Smoke is a closed-loop sanity check: its figures follow
 * the latency of a few requests and say nothing stable about a release.
 */
export const REGRESSION_PROFILES = ['steady', 'spike', 'soak'];

export function loadProfile(name: string): LoadProfile {
  const input = (PROFILES as Record<string, unknown>)[name];
  if (!input) {
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--profiles: no load profile "${name}" (known: ${PROFILE_NAMES.join(', ')})`,
    );
  }
  return validateProfile(input, `load/profiles/${name}.ts`);
}
