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

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A provisioner name: a DNS subdomain, optionally prefixed like a qualified name (rancher.io/local-path, kubernetes.io/aws-ebs). */
const PROVISIONER_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A volume provisioner (CSI driver) running in the cluster, and where the volumes it creates can be used. */
export const provisionerSchema = z.strictObject({
  name: z
    .string()
    .regex(PROVISIONER_NAME, 'must be a provisioner name such as ebs.csi.aws.com or rancher.io/local-path'),
  /** zone: one availability zone (EBS); node: the node it was created on (local-path); none: every node (EFS, NFS). */
  volumeTopology: z.enum(['zone', 'node', 'none']),
});

/** A StorageClass the cluster itself comes with (EKS creates gp2, k3s local-path), before any manifest. */
export const clusterStorageClassSchema = z.strictObject({
  name: z.string().regex(DNS_SUBDOMAIN, 'must be a DNS subdomain such as gp2'),
  provisioner: z.string().min(1),
  /** Annotated storageclass.kubernetes.io/is-default-class: "true". */
  default: z.boolean().optional(),
  reclaimPolicy: z.enum(['Delete', 'Retain']).optional(),
  volumeBindingMode: z.enum(['Immediate', 'WaitForFirstConsumer']).optional(),
  allowVolumeExpansion: z.boolean().optional(),
  parameters: z.record(z.string(), z.string()).optional(),
});

/** What the cluster provides for volumes: the provisioners that run in it and the classes it is created with. */
export const clusterStorageSchema = z.strictObject({
  provisioners: z.array(provisionerSchema),
  storageClasses: z.array(clusterStorageClassSchema).optional(),
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
  /**
   * The subnet of each zone that its nodes take their addresses from (the private subnets of the
   * Terraform, where EKS places the node groups); a zone not listed gets 10.0.<its position + 1>.0/24.
   */
  nodeSubnets: z
    .record(z.string().min(1), z.string().regex(IPV4_CIDR, 'must be an IPv4 CIDR block such as 10.0.10.0/24'))
    .optional(),
});

export const topologySchema = z.strictObject({
  apiVersion: z.literal('twin.dev/v1alpha1'),
  kind: z.literal('Topology'),
  metadata: z.strictObject({ name: z.string().min(1) }),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as ap-northeast-1'),
  zones: z.array(z.string().min(1)).min(1),
  nodePools: z.array(nodePoolSchema).min(1),
  /** The cluster's storage; without it no provisioner runs and every dynamically provisioned claim stays Pending. */
  storage: clusterStorageSchema.optional(),
  /** The network around the cluster; without it the load balancer is an address outside every subnet. */
  network: clusterNetworkSchema.optional(),
});

export type TopologyTaint = z.infer<typeof taintSchema>;
export type NodePool = z.infer<typeof nodePoolSchema>;
export type Topology = z.infer<typeof topologySchema>;
export type Provisioner = z.infer<typeof provisionerSchema>;
export type ClusterStorageClass = z.infer<typeof clusterStorageClassSchema>;
export type ClusterStorage = z.infer<typeof clusterStorageSchema>;
export type ClusterNetwork = z.infer<typeof clusterNetworkSchema>;
