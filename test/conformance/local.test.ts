import { describe } from 'vitest';
import { upEnvironment } from '../../env/registry.ts';
import { nftAvailable } from '../../twin/network/nftables.ts';
import { CONFORMANCE_CASES } from './cases/index.ts';
import { conformanceEnvironmentOptions } from './conformance-system.ts';
import { registerConformance } from './run-conformance.ts';

// The twin enforces NetworkPolicy for connections straight to pod addresses only in the kernel
// (docs/network-policy.md); without it env.net.canConnect refuses to measure a denied connection.
const nft = await nftAvailable();
const noKernelPolicy = nft.ok
  ? undefined
  : `needs NetworkPolicy enforced in the kernel: root and nftables (${nft.reason})`;

describe('conformance on local (the twin)', () => {
  registerConformance({
    environment: 'local',
    up: () => upEnvironment('local', conformanceEnvironmentOptions('local')),
    cases: CONFORMANCE_CASES,
    caseTimeoutMs: 90_000,
    waits: { minMs: 15_000, factor: 3 },
    ...(noKernelPolicy
      ? { unavailable: { networkPolicy: noKernelPolicy, networkPolicyDrop: noKernelPolicy } }
      : {}),
  });
});
