import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { k6Script } from '../../../harness/load/k6-script.ts';
import { loadProfile, PROFILE_NAMES } from '../../../load/profiles/index.ts';
import { expectGolden } from '../../golden/golden.ts';

describe('k6 scripts (golden files, UPDATE_GOLDEN=1 rewrites them)', () => {
  // The soak profile's length comes from TWIN_SOAK_DURATION when set: the golden file has its default.
  it.skipIf(process.env['TWIN_SOAK_DURATION'] !== undefined).each(PROFILE_NAMES)('the %s profile', (name) => {
    expectGolden(
      fileURLToPath(new URL(`./__golden__/${name}.k6.ts`, import.meta.url)),
      k6Script(loadProfile(name), `load/profiles/${name}.ts`),
    );
  });
});
