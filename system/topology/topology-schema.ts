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

export const topologySchema = z.strictObject({
  apiVersion: z.literal('twin.dev/v1alpha1'),
  kind: z.literal('Topology'),
  metadata: z.strictObject({ name: z.string().min(1) }),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as ap-northeast-1'),
  zones: z.array(z.string().min(1)).min(1),
  nodePools: z.array(nodePoolSchema).min(1),
});

export type TopologyTaint = z.infer<typeof taintSchema>;
export type NodePool = z.infer<typeof nodePoolSchema>;
export type Topology = z.infer<typeof topologySchema>;
