/**
 * A Kafka node's configuration as the `apache/kafka` image builds it: `KAFKA_*` environment
 * variables become server properties (prefix dropped, lower-cased, `___` → `_`, `__` → `-`,
 * `_` → `.`, the image's own variables such as KAFKA_HEAP_OPTS excluded), appended to a mounted
 * `/mnt/shared/config/server.properties` when there is one; with neither, the image's default
 * single-node KRaft properties apply. `CLUSTER_ID` (default `5L6g3nShT-eMCtK--X86sw`, as the image)
 * formats empty log directories.
 *
 * What a twin broker cannot honour is refused with a message naming the variable: ZooKeeper mode,
 * listeners other than PLAINTEXT (SSL, SASL), a dynamic quorum (controller.quorum.bootstrap.servers).
 * Properties it does not know are logged and ignored, as Kafka does with unknown configs.
 */
import { TwinError } from '../../../core/errors.ts';

const IMAGE_VARIABLES = new Set([
  'KAFKA_VERSION',
  'KAFKA_HEAP_OPT',
  'KAFKA_HEAP_OPTS',
  'KAFKA_LOG4J_OPTS',
  'KAFKA_OPTS',
  'KAFKA_JMX_OPTS',
  'KAFKA_JVM_PERFORMANCE_OPTS',
  'KAFKA_GC_LOG_OPTS',
  'KAFKA_LOG4J_ROOT_LOGLEVEL',
  'KAFKA_LOG4J_LOGGERS',
  'KAFKA_TOOLS_LOG4J_LOGLEVEL',
  'KAFKA_JMX_HOSTNAME',
  'KAFKA_JMX_PORT',
]);

/** The image's config/kraft/server.properties, used when no configuration is given at all. */
export const IMAGE_DEFAULTS: Record<string, string> = {
  'process.roles': 'broker,controller',
  'node.id': '1',
  'controller.quorum.voters': '1@localhost:9093',
  listeners: 'PLAINTEXT://:9092,CONTROLLER://:9093',
  'inter.broker.listener.name': 'PLAINTEXT',
  'advertised.listeners': 'PLAINTEXT://localhost:9092',
  'controller.listener.names': 'CONTROLLER',
  'listener.security.protocol.map':
    'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
  'log.dirs': '/tmp/kraft-combined-logs',
  'num.partitions': '1',
  'offsets.topic.replication.factor': '1',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
};

/** Properties that change the broker's behaviour, with Kafka's defaults. */
const HONOURED: Record<string, string> = {
  'num.partitions': '1',
  'default.replication.factor': '1',
  'min.insync.replicas': '1',
  'unclean.leader.election.enable': 'false',
  'auto.create.topics.enable': 'true',
  'delete.topic.enable': 'true',
  'replica.lag.time.max.ms': '30000',
  'replica.fetch.wait.max.ms': '500',
  'broker.session.timeout.ms': '9000',
  'broker.heartbeat.interval.ms': '2000',
  'controller.quorum.election.timeout.ms': '1000',
  'controller.quorum.fetch.timeout.ms': '2000',
  'offsets.topic.num.partitions': '50',
  'offsets.topic.replication.factor': '3',
  'offsets.commit.timeout.ms': '5000',
  'group.initial.rebalance.delay.ms': '3000',
  'group.min.session.timeout.ms': '6000',
  'group.max.session.timeout.ms': '1800000',
  'message.max.bytes': '1048588',
  'broker.rack': '',
};

/** Accepted and shown by DescribeConfigs, without effect on the twin (retention, threads, sockets, transactions). */
const ACCEPTED = [
  /^log\.(retention|segment|roll|cleaner|cleanup|flush|index|preallocate|message)/,
  /^num\.(network|io|recovery|replica)/,
  /^socket\./,
  /^transaction\./,
  /^group\.(coordinator|consumer|share|max\.size)/,
  /^offsets\.(retention|load|topic\.(segment|compression))/,
  /^(auto\.leader\.rebalance|leader\.imbalance)/,
  /^(ssl|sasl)\./,
  /^(metric|metrics)\./,
  /^(queued\.max|request\.timeout|connections\.max|max\.connections)/,
  /^(replica\.(fetch|socket|high))/,
  /^(compression\.type|background\.threads|fetch\.max\.bytes|max\.incremental|authorizer\.class\.name|allow\.everyone|super\.users)/,
  /^(controller\.quorum\.(append|request|retry)|metadata\.(log\.(max|segment)|max))/,
  /^(share\.|unstable\.|confluent\.)/,
];

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export interface BrokerConfig {
  nodeId: number;
  roles: { broker: boolean; controller: boolean };
  clusterId: string;
  voters: { id: number; host: string; port: number }[];
  listeners: Listener[];
  advertised: Listener[];
  controllerListenerNames: string[];
  interBrokerListenerName: string;
  logDir: string;
  metadataLogDir: string;
  props: Map<string, string>;
  /** Properties Kafka would warn about as unknown. */
  unknown: string[];
  int(name: string): number;
  bool(name: string): boolean;
}

/** KAFKA_FOO_BAR → foo.bar; KAFKA_A___B → a_b; KAFKA_A__B → a-b. */
export function propertyName(variable: string): string {
  return variable
    .slice('KAFKA_'.length)
    .toLowerCase()
    .replaceAll('___', '\u0001')
    .replaceAll('__', '-')
    .replaceAll('_', '.')
    .replaceAll('\u0001', '_');
}

/** Parses a .properties text (key=value or key:value lines, # and ! comments). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

function fail(what: string, message: string): never {
  throw new TwinError('TWIN_KAFKA_CONFIG_INVALID', `${what}: ${message}`);
}

const envName = (prop: string) =>
  `KAFKA_${prop.replaceAll('_', '___').replaceAll('-', '__').replaceAll('.', '_').toUpperCase()}`;

export function parseListeners(text: string, what: string): Listener[] {
  if (!text.trim()) return [];
  return text.split(',').map((entry) => {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(entry.trim());
    if (!m) fail(what, `listener "${entry}" is not NAME://host:port`);
    return { name: m[1]!.toUpperCase(), host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
  });
}

/**
 * The node's configuration from the container's environment and an optional mounted properties file.
 * `podAddress` stands in for listeners without a host (0.0.0.0, ""): the pod's own address.
 */
export function brokerConfig(env: NodeJS.ProcessEnv, fileProperties?: Map<string, string>): BrokerConfig {
  if (env['KAFKA_PROCESS_ROLES'] === 'controller') {
    // The image's configure script: a KRaft controller has no advertised listeners.
    if (env['KAFKA_ADVERTISED_LISTENERS'])
      fail('KAFKA_ADVERTISED_LISTENERS', 'is not supported on a KRaft controller.');
    const { KAFKA_ADVERTISED_LISTENERS: _, ...rest } = env;
    env = rest;
  }
  const props = new Map<string, string>(fileProperties ?? []);
  let fromEnv = 0;
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('KAFKA_') || v === undefined || IMAGE_VARIABLES.has(k)) continue;
    // Service links of a Service named "kafka" (KAFKA_PORT, KAFKA_SERVICE_HOST, …) become properties
    // too, as in the image; Kafka then ignores them as unknown configs.
    props.set(propertyName(k), v);
    fromEnv++;
  }
  if (!fileProperties?.size && fromEnv === 0)
    for (const [k, v] of Object.entries(IMAGE_DEFAULTS)) props.set(k, v);
  // The image derives listeners from the advertised listeners when only those are given.
  if (
    !props.has('listeners') &&
    props.has('advertised.listeners') &&
    props.get('process.roles') !== 'controller'
  )
    props.set('listeners', props.get('advertised.listeners')!.replace(/:\/\/[^:]*:/g, '://0.0.0.0:'));

  if (props.has('zookeeper.connect'))
    fail(
      envName('zookeeper.connect'),
      "ZooKeeper mode is not supported by the twin's broker (nor by Kafka 4); configure KRaft: KAFKA_PROCESS_ROLES, KAFKA_NODE_ID, KAFKA_CONTROLLER_QUORUM_VOTERS",
    );
  const rolesText = props.get('process.roles');
  if (!rolesText)
    fail('KAFKA_PROCESS_ROLES', 'is required (KRaft mode): broker, controller or broker,controller');
  const roleList = rolesText.split(',').map((r) => r.trim());
  for (const r of roleList)
    if (r !== 'broker' && r !== 'controller') fail('KAFKA_PROCESS_ROLES', `unknown role "${r}"`);
  const roles = { broker: roleList.includes('broker'), controller: roleList.includes('controller') };
  const nodeIdText = props.get('node.id');
  if (nodeIdText === undefined || !/^\d+$/.test(nodeIdText))
    fail('KAFKA_NODE_ID', `must be a non-negative integer, got ${JSON.stringify(nodeIdText ?? null)}`);
  const nodeId = Number(nodeIdText);
  const votersText = props.get('controller.quorum.voters');
  if (!votersText) {
    if (props.has('controller.quorum.bootstrap.servers'))
      fail(
        'KAFKA_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS',
        "a dynamic KRaft quorum (KIP-853) is not supported by the twin's broker; set KAFKA_CONTROLLER_QUORUM_VOTERS (id@host:port,…)",
      );
    fail('KAFKA_CONTROLLER_QUORUM_VOTERS', 'is required: id@host:port,… of the controllers');
  }
  const voters = votersText.split(',').map((v) => {
    const m = /^(\d+)@(\[[^\]]*\]|[^:]+):(\d+)$/.exec(v.trim());
    if (!m) fail('KAFKA_CONTROLLER_QUORUM_VOTERS', `"${v}" is not id@host:port`);
    return { id: Number(m[1]), host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
  });
  if (roles.controller && !voters.some((v) => v.id === nodeId))
    fail(
      'KAFKA_CONTROLLER_QUORUM_VOTERS',
      `node ${nodeId} has the controller role but is not among the voters ${votersText}`,
    );

  const protocolMap = new Map<string, string>();
  for (const e of (
    props.get('listener.security.protocol.map') ?? 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT'
  ).split(',')) {
    const [name, protocol] = e.split(':').map((s) => s.trim().toUpperCase());
    if (name && protocol) protocolMap.set(name, protocol);
  }
  const listeners = parseListeners(props.get('listeners') ?? 'PLAINTEXT://:9092', 'KAFKA_LISTENERS');
  for (const l of listeners) {
    const protocol = protocolMap.get(l.name) ?? l.name;
    if (protocol !== 'PLAINTEXT')
      fail(
        'KAFKA_LISTENERS',
        `listener ${l.name} uses ${protocol}; the twin's broker serves PLAINTEXT only (no TLS, no SASL)`,
      );
  }
  const controllerListenerNames = (props.get('controller.listener.names') ?? '')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  if (!controllerListenerNames.length) fail('KAFKA_CONTROLLER_LISTENER_NAMES', 'is required in KRaft mode');
  if (roles.controller && !listeners.some((l) => l.name === controllerListenerNames[0]))
    fail('KAFKA_LISTENERS', `has no ${controllerListenerNames[0]} listener for the controller role`);
  const brokerListeners = listeners.filter((l) => !controllerListenerNames.includes(l.name));
  if (roles.broker && !brokerListeners.length)
    fail('KAFKA_LISTENERS', 'a broker needs a listener other than the controller listener');
  let advertised = parseListeners(props.get('advertised.listeners') ?? '', 'KAFKA_ADVERTISED_LISTENERS');
  if (!advertised.length) advertised = brokerListeners.map((l) => ({ ...l }));
  for (const a of advertised)
    if (!listeners.some((l) => l.name === a.name))
      fail('KAFKA_ADVERTISED_LISTENERS', `names listener ${a.name}, which KAFKA_LISTENERS does not define`);
  const interBrokerListenerName = (props.get('inter.broker.listener.name') ?? 'PLAINTEXT').toUpperCase();
  if (roles.broker && !advertised.some((a) => a.name === interBrokerListenerName))
    fail(
      'KAFKA_INTER_BROKER_LISTENER_NAME',
      `${interBrokerListenerName} is not among the advertised listeners`,
    );

  const logDir = (props.get('log.dirs') ?? props.get('log.dir') ?? '/tmp/kafka-logs').split(',')[0]!.trim();
  if ((props.get('log.dirs') ?? '').includes(','))
    process.stderr.write(
      `twin-kafka: log.dirs lists several directories; the twin's broker uses the first, ${logDir}\n`,
    );
  const known = (k: string) =>
    k in HONOURED ||
    k in IMAGE_DEFAULTS ||
    [
      'node.id',
      'process.roles',
      'controller.quorum.voters',
      'listeners',
      'advertised.listeners',
      'log.dirs',
      'log.dir',
      'metadata.log.dir',
      'cluster.id',
      'broker.id',
    ].includes(k) ||
    ACCEPTED.some((re) => re.test(k));
  for (const [k, v] of Object.entries(HONOURED)) if (!props.has(k)) props.set(k, v);
  const cfg: BrokerConfig = {
    nodeId,
    roles,
    clusterId: env['CLUSTER_ID'] || props.get('cluster.id') || '5L6g3nShT-eMCtK--X86sw',
    voters,
    listeners,
    advertised,
    controllerListenerNames,
    interBrokerListenerName,
    logDir,
    metadataLogDir: props.get('metadata.log.dir') ?? logDir,
    props,
    unknown: [...props.keys()].filter((k) => !known(k)),
    int: (name) => {
      const v = props.get(name);
      if (v === undefined || !/^-?\d+$/.test(v.trim()))
        fail(envName(name), `must be an integer, got ${JSON.stringify(v ?? null)}`);
      return Number(v);
    },
    bool: (name) => {
      const v = props.get(name)?.trim().toLowerCase();
      if (v !== 'true' && v !== 'false')
        fail(envName(name), `must be true or false, got ${JSON.stringify(v ?? null)}`);
      return v === 'true';
    },
  };
  for (const k of Object.keys(HONOURED))
    if (k !== 'broker.rack' && k !== 'unclean.leader.election.enable' && !k.endsWith('enable')) cfg.int(k);
  for (const k of ['unclean.leader.election.enable', 'auto.create.topics.enable', 'delete.topic.enable'])
    cfg.bool(k);
  return cfg;
}
