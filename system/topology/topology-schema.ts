import { z } from 'zod';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const taintSchema = z.strictObject({
  key: z.string().regex(LABEL_KEY, 'must be a qualified name such as nvidia.com/gpu'),
  value: z.string().regex(LABEL_VALUE, 'must be a valid label value').optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

export const nodePoolSchema = z.strictObject({
  name: z.string().regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits and "-")'),
  instanceType: z.string().min(1),
  nodesPerZone: z.number().int().min(0).optional(),
  nodes: z.number().int().min(0).optional(),
  zones: z.array(z.string().min(1)).min(1).optional(),
  labels: z
    .record(
      z.string().regex(LABEL_KEY, 'must be a qualified label key'),
      z.string().regex(LABEL_VALUE, 'must be a valid label value'),
    )
    .optional(),
  taints: z.array(taintSchema).optional(),
  /** Root EBS volume; ephemeral-storage capacity follows it. */
  diskSizeGiB: z.number().int().min(1).optional(),
});

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/([0-9]|[12]\d|3[0-2])$/;

/** What the cluster's network looks like from the outside, as far as the pods' NetworkPolicies can see it. */
export const clusterNetworkSchema = z.strictObject({
  /**
   * The subnets a load balancer's interfaces sit in (an ALB with target-type ip connects to pods from
   * its addresses there: the public subnets of the VPC).
   */
  loadBalancerSubnets: z
    .array(z.string().regex(IPV4_CIDR, 'must be an IPv4 CIDR block such as 10.0.1.0/24'))
    .min(1)
    .optional(),
});

export const topologySchema = z.strictObject({
  apiVersion: z.literal('twin.dev/v1alpha1'),
  kind: z.literal('Topology'),
  metadata: z.strictObject({ name: z.string().min(1) }),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as ap-northeast-1'),
  zones: z.array(z.string().min(1)).min(1),
  nodePools: z.array(nodePoolSchema).min(1),
  /** The network around the cluster; without it the load balancer is an address outside every subnet. */
  network: clusterNetworkSchema.optional(),
});

export type TopologyTaint = z.infer<typeof taintSchema>;
export type NodePool = z.infer<typeof nodePoolSchema>;
export type Topology = z.infer<typeof topologySchema>;
export type ClusterNetwork = z.infer<typeof clusterNetworkSchema>;
