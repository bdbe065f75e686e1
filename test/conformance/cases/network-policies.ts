import type { ConformanceCase } from '../conformance-case.ts';

/**
 * NetworkPolicy cases come once the twin enforces NetworkPolicies (branch `netpol`) and the
 * Environment API can say whether one pod reaches another. Planned, each from
 * https://kubernetes.io/docs/concepts/services-networking/network-policies/:
 * - with no policy selecting a pod, all ingress and egress is allowed;
 * - a policy with policyTypes [Ingress] and no rules (default deny) isolates the selected pods for ingress only;
 * - ingress from a podSelector allows those pods and no other, in the policy's namespace only;
 * - a namespaceSelector allows pods of the matching namespaces; podSelector and namespaceSelector in one
 *   `from` element are ANDed, in two elements ORed;
 * - policies are additive: a connection is allowed when any policy selecting the pod allows it;
 * - a named port in a rule matches the destination pod's container port of that name; endPort covers a range;
 * - egress isolation: with policyTypes [Egress] and no rules, the pod reaches nothing (DNS included)
 *   unless a rule allows it;
 * - ipBlock with except allows a CIDR but the excepted ranges;
 * - both ends must allow a connection (the source's egress and the destination's ingress);
 * - traffic to a Service is checked against the policies of the endpoint pod it reaches.
 */
export const networkPolicyCases: ConformanceCase[] = [];
