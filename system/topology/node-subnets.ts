import { type Cidr, numberToIpv4, parseCidr } from '../../kube/cidr.ts';
import type { Topology } from './topology-schema.ts';

/** A node's first host number within its zone's subnet (AWS reserves the first four addresses). */
export const FIRST_NODE_HOST = 10;

/**
 * The subnet the nodes of a zone take their addresses from: `network.nodeSubnets[zone]` of the
 * topology (the private subnets of the Terraform), else 10.0.<zone's position + 1>.0/24.
 */
export function nodeSubnet(topology: Topology, zone: string): Cidr {
  const declared = topology.network?.nodeSubnets?.[zone];
  const parsed = declared ? parseCidr(declared) : undefined;
  return parsed ?? parseCidr(`10.0.${topology.zones.indexOf(zone) + 1}.0/24`)!;
}

/** How many node addresses a subnet holds: from host .10 up to the address before the broadcast address. */
export function nodeAddressCapacity(subnet: Cidr): number {
  return Math.max(0, 2 ** (32 - subnet.prefix) - FIRST_NODE_HOST - 1);
}

/** The address of the `host`-th node (from 1) of a zone. */
export function nodeAddress(subnet: Cidr, host: number): string {
  return numberToIpv4(subnet.base + FIRST_NODE_HOST + host - 1);
}

/** Whether two blocks share an address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const end = (c: Cidr) => c.base + 2 ** (32 - c.prefix) - 1;
  return a.base <= end(b) && b.base <= end(a);
}
