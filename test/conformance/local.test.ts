import { describe } from 'vitest';
import { upEnvironment } from '../../env/registry.ts';
import { CONFORMANCE_CASES } from './cases/index.ts';
import { conformanceEnvironmentOptions } from './conformance-system.ts';
import { registerConformance } from './run-conformance.ts';

describe('conformance on local (the twin)', () => {
  registerConformance({
    environment: 'local',
    up: () => upEnvironment('local', conformanceEnvironmentOptions('local')),
    cases: CONFORMANCE_CASES,
    caseTimeoutMs: 90_000,
    waits: { minMs: 15_000, factor: 3 },
  });
});
