import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { TwinError } from '../../core/errors.ts';
import { parseCidr } from '../../kube/cidr.ts';
import { LIMITS, limit } from '../limits.ts';
import { aliasProblem, MAX_ALIAS_COUNT } from '../render/manifest-yaml.ts';
import { INSTANCE_TYPES, unknownInstanceTypeMessage } from './instance-types.ts';
import { nodeAddressCapacity, nodeSubnet, overlaps } from './node-subnets.ts';
import { type Topology, topologySchema } from './topology-schema.ts';

export { topologyToNodes } from './topology-nodes.ts';
export type {
  ClusterStorage,
  ClusterStorageClass,
  NodePool,
  Provisioner,
  Topology,
  TopologyTaint,
} from './topology-schema.ts';

/** Reads and validates a topology file; errors name the file as given, the field and the value. */
export async function loadTopology(path: string): Promise<Topology> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TwinError(
      'TWIN_TOPOLOGY_INVALID',
      `${path}: cannot read the topology file: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return parseTopology(text, path);
}

/** Parses topology YAML text; `path` only names the source in error messages. */
export function parseTopology(text: string, path: string): Topology {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = lines.linePos(syntax.pos[0]);
    throw invalid(
      path,
      `${pos.line}:${pos.col}`,
      `YAML syntax error: ${syntax.message.split('\n')[0]}`,
      true,
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw invalid(path, '(document)', aliasProblem(err));
  }
  const parsed = topologySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(path, fieldPath(issue.path), describeIssue(issue, raw));
  }
  const topology = parsed.data;
  checkSemantics(topology, path);
  return topology;
}

function checkSemantics(t: Topology, path: string): void {
  const zones = new Set<string>();
  t.zones.forEach((zone, i) => {
    if (!zone.startsWith(t.region)) {
      throw invalid(path, `zones[${i}]`, `zone "${zone}" is not in region "${t.region}"`);
    }
    if (zones.has(zone)) throw invalid(path, `zones[${i}]`, `zone "${zone}" is listed twice`);
    zones.add(zone);
  });
  const names = new Map<string, number>();
  const maxNodes = limit('nodes');
  let nodes = 0;
  t.nodePools.forEach((pool, i) => {
    const at = `nodePools[${i}]`;
    const first = names.get(pool.name);
    if (first !== undefined) {
      throw invalid(
        path,
        `${at}.name`,
        `duplicate node pool name "${pool.name}" (also nodePools[${first}].name)`,
      );
    }
    names.set(pool.name, i);
    if (!INSTANCE_TYPES.has(pool.instanceType)) {
      throw invalid(path, `${at}.instanceType`, unknownInstanceTypeMessage(pool.instanceType));
    }
    (pool.zones ?? []).forEach((zone, j) => {
      if (!zones.has(zone)) {
        throw invalid(
          path,
          `${at}.zones[${j}]`,
          `zone "${zone}" is not one of the topology's zones (${t.zones.join(', ')})`,
        );
      }
    });
    if (pool.nodes === undefined && pool.nodesPerZone === undefined) {
      throw invalid(path, at, `node pool "${pool.name}" needs nodesPerZone or nodes`);
    }
    if (pool.nodes !== undefined && pool.nodesPerZone !== undefined) {
      throw invalid(
        path,
        at,
        `node pool "${pool.name}" sets both nodesPerZone (${pool.nodesPerZone}) and nodes (${pool.nodes}); use one`,
      );
    }
    const poolZones = (pool.zones ?? t.zones).length;
    nodes += pool.nodes ?? pool.nodesPerZone! * poolZones;
    if (nodes > maxNodes) {
      const field = pool.nodes !== undefined ? 'nodes' : 'nodesPerZone';
      const value = pool.nodes ?? pool.nodesPerZone;
      throw invalid(
        path,
        `${at}.${field}`,
        `${value}${field === 'nodesPerZone' ? ` × ${poolZones} zone${poolZones === 1 ? '' : 's'}` : ''} brings the topology to ${nodes} nodes, more than the ${maxNodes} the twin models (Kubernetes supports 5,000 nodes per cluster); lower it, or raise the bound with ${LIMITS.nodes.variable}=<n>`,
      );
    }
  });
  checkNodeSubnets(t, path);
  const unique = (items: Array<{ name: string }>, field: string, what: string) => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const first = seen.get(item.name);
      if (first !== undefined)
        throw invalid(
          path,
          `${field}[${i}].name`,
          `${what} "${item.name}" is listed twice (also ${field}[${first}].name)`,
        );
      seen.set(item.name, i);
    });
  };
  unique(t.storage?.provisioners ?? [], 'storage.provisioners', 'provisioner');
  unique(t.storage?.storageClasses ?? [], 'storage.storageClasses', 'StorageClass');
}

/**
 * network.nodeSubnets: one block per zone of the topology, none overlapping another, each holding the
 * nodes its zone's pools put there (from host .10 to the one before the broadcast address).
 */
function checkNodeSubnets(t: Topology, path: string): void {
  const declared = Object.entries(t.network?.nodeSubnets ?? {});
  for (const [zone, text] of declared) {
    const at = `network.nodeSubnets.${zone}`;
    if (!t.zones.includes(zone))
      throw invalid(path, at, `zone "${zone}" is not one of the topology's zones (${t.zones.join(', ')})`);
    const prefix = parseCidr(text)!.prefix;
    if (prefix < 16 || prefix > 28)
      throw invalid(path, at, `${text}: an AWS subnet is a /16 to a /28 block, got /${prefix}`);
  }
  t.zones.forEach((zone, i) => {
    for (const other of t.zones.slice(i + 1)) {
      const a = nodeSubnet(t, zone);
      const b = nodeSubnet(t, other);
      if (overlaps(a, b))
        throw invalid(
          path,
          `network.nodeSubnets.${t.network?.nodeSubnets?.[other] ? other : zone}`,
          `the node subnets of ${zone} (${a.text}) and ${other} (${b.text}) overlap; give each zone a block of its own`,
        );
    }
  });
  const inZone = new Map<string, number>();
  t.nodePools.forEach((pool, i) => {
    const zones = pool.zones ?? t.zones;
    const counts = new Map<string, number>();
    if (pool.nodesPerZone !== undefined) for (const z of zones) counts.set(z, pool.nodesPerZone);
    else
      for (let n = 0; n < (pool.nodes ?? 0); n++)
        counts.set(zones[n % zones.length]!, (counts.get(zones[n % zones.length]!) ?? 0) + 1);
    for (const [zone, n] of counts) {
      const total = (inZone.get(zone) ?? 0) + n;
      inZone.set(zone, total);
      const subnet = nodeSubnet(t, zone);
      const capacity = nodeAddressCapacity(subnet);
      if (total > capacity) {
        const field = pool.nodes !== undefined ? 'nodes' : 'nodesPerZone';
        const declaredHere = t.network?.nodeSubnets?.[zone] !== undefined;
        throw invalid(
          path,
          `nodePools[${i}].${field}`,
          `node pool "${pool.name}" brings zone ${zone} to ${total} nodes, more than the ${capacity} node addresses of its subnet ${subnet.text} (${declaredHere ? `network.nodeSubnets.${zone}` : `the default /24 of a zone without network.nodeSubnets.${zone}`}); declare a larger subnet for the zone, as the Terraform's private subnets are, or lower the pool`,
        );
      }
    }
  });
}

function invalid(path: string, field: string, problem: string, position = false): TwinError {
  return new TwinError(
    'TWIN_TOPOLOGY_INVALID',
    position ? `${path}:${field}: ${problem}` : `${path}: ${field}: ${problem}`,
  );
}

/** ["nodePools", 1, "instanceType"] → "nodePools[1].instanceType". */
function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(document)' : out;
}

function valueAt(raw: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: any = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[p as any];
  }
  return v;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const value = valueAt(raw, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return `is required (${issue.expected})`;
      return `must be ${article(issue.expected)}, got ${JSON.stringify(value)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(value)}`;
    default:
      return `${issue.message}, got ${JSON.stringify(value)}`;
  }
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
