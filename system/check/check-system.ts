import type { ClusterProfile } from '../profiles/profile-registry.ts';
import { DEFAULT_PROFILE, PROFILES } from '../profiles/profile-registry.ts';
import type { SystemLayout } from '../system.ts';
import { addonControllerFindings } from './addon-controllers.ts';
import { autoscalerMetricFindings } from './autoscaler-metrics.ts';
import { backupCredentialFindings } from './backup-credentials.ts';
import { type CheckContext, loadForCheck } from './check-context.ts';
import { disruptionBudgetFindings } from './disruption-budgets.ts';
import { countBySeverity, type Finding, type Severity, sortFindings } from './finding.ts';
import { imageBindingFindings } from './image-bindings.ts';
import { ingressClassFindings } from './ingress-classes.ts';
import { ingressNetworkPolicyFindings } from './ingress-network-policies.ts';
import { loadRestrictorFindings } from './kustomize-load-restrictor.ts';
import { manifestSchemaFindings } from './manifest-schema.ts';
import { objectReferenceFindings } from './object-references.ts';
import { probePortFindings } from './probe-ports.ts';
import { secretPlaceholderFindings } from './secret-placeholders.ts';
import { serviceAccountRoleCheck } from './service-account-roles.ts';
import { serviceSelectorFindings } from './service-selectors.ts';
import { storageClassFindings } from './storage-classes.ts';

/** The checks, by the name findings carry; the schema check runs first (it defaults namespaces, as kubectl apply does). */
export const CHECKS: readonly { name: string; run: (ctx: CheckContext) => Finding[] | Promise<Finding[]> }[] =
  [
    { name: 'schema', run: manifestSchemaFindings },
    { name: 'kustomize', run: loadRestrictorFindings },
    { name: 'addons', run: addonControllerFindings },
    { name: 'storage', run: storageClassFindings },
    { name: 'references', run: objectReferenceFindings },
    { name: 'secrets', run: secretPlaceholderFindings },
    { name: 'irsa', run: serviceAccountRoleCheck },
    { name: 'backups', run: backupCredentialFindings },
    { name: 'services', run: serviceSelectorFindings },
    { name: 'probes', run: probePortFindings },
    { name: 'pdb', run: disruptionBudgetFindings },
    { name: 'hpa', run: autoscalerMetricFindings },
    { name: 'ingress', run: ingressClassFindings },
    { name: 'network-policy', run: ingressNetworkPolicyFindings },
    { name: 'images', run: imageBindingFindings },
  ];

/** What `twin check` found in one system, overlay and profile. */
export interface CheckReport {
  system: string;
  overlay: string;
  profile: ClusterProfile['name'];
  findings: Finding[];
  counts: Record<Severity, number>;
}

/**
 * Every static finding of one overlay of a system, for a cluster of the profile (system/profiles):
 * nothing is started (no process, no listener, no AWS call). Only an overlay that does not exist, or
 * a missing kustomize, throws; everything wrong with the system's files is a finding.
 */
export async function checkSystem(
  layout: SystemLayout,
  options: { overlay?: string; profile?: ClusterProfile } = {},
): Promise<CheckReport> {
  const profile = options.profile ?? DEFAULT_PROFILE;
  const overlay = options.overlay ?? profile.defaultOverlay(layout.overlays());
  const { ctx, findings } = await loadForCheck(layout, overlay, profile);
  if (ctx) for (const check of CHECKS) findings.push(...(await check.run(ctx)));
  const sorted = sortFindings(findings);
  return {
    system: layout.name,
    overlay,
    profile: profile.name,
    findings: sorted,
    counts: countBySeverity(sorted),
  };
}

/** The (overlay, profile) pairs `twin check --all` checks for a system: each profile with the overlays written for it. */
export function checkedPairs(layout: SystemLayout): { overlay: string; profile: ClusterProfile }[] {
  const overlays = layout.overlays();
  return PROFILES.flatMap((profile) =>
    profile.overlaysFor(overlays).map((overlay) => ({ overlay, profile })),
  );
}
