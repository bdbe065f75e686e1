import { describe, expect, it } from 'vitest';
import { brokerConfig, parseProperties, propertyName } from '../../../../twin/kafka/broker/broker-config.ts';

const statefulSetEnv = {
  KAFKA_NODE_ID: '1',
  KAFKA_PROCESS_ROLES: 'broker,controller',
  KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
  KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka-1.kafka-headless.data.svc.cluster.local:9092',
  KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
  KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
  KAFKA_CONTROLLER_QUORUM_VOTERS:
    '0@kafka-0.kafka-headless:9093,1@kafka-1.kafka-headless:9093,2@kafka-2.kafka-headless:9093',
  KAFKA_LOG_DIRS: '/var/lib/kafka/data',
  KAFKA_MIN_INSYNC_REPLICAS: '2',
  KAFKA_HEAP_OPTS: '-Xmx1G',
  CLUSTER_ID: 'abc',
};

describe('Kafka node configuration from the apache/kafka image environment', () => {
  it('turns KAFKA_* variables into properties as the image does', () => {
    expect(propertyName('KAFKA_LOG_DIRS')).toBe('log.dirs');
    expect(propertyName('KAFKA_LISTENER_NAME_INTERNAL_SSL_KEY___PASSWORD')).toBe(
      'listener.name.internal.ssl.key_password',
    );
    expect(propertyName('KAFKA_A__B')).toBe('a-b');
  });

  it('reads the settings of a StatefulSet of three combined nodes', () => {
    const c = brokerConfig(statefulSetEnv);
    expect(c.nodeId).toBe(1);
    expect(c.roles).toEqual({ broker: true, controller: true });
    expect(c.voters.map((v) => `${v.id}@${v.host}:${v.port}`)).toEqual([
      '0@kafka-0.kafka-headless:9093',
      '1@kafka-1.kafka-headless:9093',
      '2@kafka-2.kafka-headless:9093',
    ]);
    expect(c.advertised).toEqual([
      { name: 'PLAINTEXT', host: 'kafka-1.kafka-headless.data.svc.cluster.local', port: 9092 },
    ]);
    expect(c.logDir).toBe('/var/lib/kafka/data');
    expect(c.clusterId).toBe('abc');
    expect(c.int('min.insync.replicas')).toBe(2);
    expect(c.int('replica.lag.time.max.ms')).toBe(30_000);
    expect(c.bool('unclean.leader.election.enable')).toBe(false);
    expect(c.props.has('heap.opts')).toBe(false);
  });

  it('falls back to the image defaults (a single combined node) without any configuration', () => {
    const c = brokerConfig({});
    expect(c.nodeId).toBe(1);
    expect(c.voters).toEqual([{ id: 1, host: 'localhost', port: 9093 }]);
    expect(c.clusterId).toBe('5L6g3nShT-eMCtK--X86sw');
    expect(c.logDir).toBe('/tmp/kraft-combined-logs');
  });

  it('derives listeners from the advertised ones as the image does', () => {
    const { KAFKA_LISTENERS: _, ...env } = statefulSetEnv;
    const c = brokerConfig({
      ...env,
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka-1:9092,CONTROLLER://kafka-1:9093',
    });
    expect(c.listeners.map((l) => `${l.name}://${l.host}:${l.port}`)).toEqual([
      'PLAINTEXT://0.0.0.0:9092',
      'CONTROLLER://0.0.0.0:9093',
    ]);
  });

  it('refuses what the twin broker cannot honour, naming the variable', () => {
    expect(() => brokerConfig({ ...statefulSetEnv, KAFKA_ZOOKEEPER_CONNECT: 'zk:2181' })).toThrow(
      /KAFKA_ZOOKEEPER_CONNECT: ZooKeeper mode is not supported/,
    );
    expect(() =>
      brokerConfig({
        ...statefulSetEnv,
        KAFKA_LISTENERS: 'SSL://:9092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: 'SSL://k:9092',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'SSL',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'SSL:SSL,CONTROLLER:PLAINTEXT',
      }),
    ).toThrow(/KAFKA_LISTENERS: listener SSL uses SSL; the twin's broker serves PLAINTEXT only/);
    const { KAFKA_CONTROLLER_QUORUM_VOTERS: _, ...noVoters } = statefulSetEnv;
    expect(() =>
      brokerConfig({ ...noVoters, KAFKA_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS: 'kafka-0:9093' }),
    ).toThrow(/KIP-853/);
    expect(() => brokerConfig({ ...statefulSetEnv, KAFKA_NODE_ID: 'one' })).toThrow(
      /KAFKA_NODE_ID: must be a non-negative integer/,
    );
    expect(() => brokerConfig({ ...statefulSetEnv, KAFKA_NODE_ID: '5' })).toThrow(
      /node 5 has the controller role but is not among the voters/,
    );
    expect(() => brokerConfig({ ...statefulSetEnv, KAFKA_MIN_INSYNC_REPLICAS: 'two' })).toThrow(
      /KAFKA_MIN_INSYNC_REPLICAS: must be an integer/,
    );
  });

  it('lists unknown properties (Kafka warns and ignores them), such as service-link variables', () => {
    const c = brokerConfig({
      ...statefulSetEnv,
      KAFKA_PORT: 'tcp://127.96.0.9:9092',
      KAFKA_NUM_NETWORK_THREADS: '3',
    });
    expect(c.unknown).toEqual(['port']);
  });

  it('parses a properties file', () => {
    expect([...parseProperties('# c\nnode.id=3\nlog.dirs = /data\n! x\nprocess.roles:broker\n')]).toEqual([
      ['node.id', '3'],
      ['log.dirs', '/data'],
      ['process.roles', 'broker'],
    ]);
  });
});
