/** Topic configurations the broker accepts (Kafka's topic-level configs), their defaults and validation. */
import { ErrorCode, KafkaApiError } from '../protocol/error-codes.ts';

const positiveInt = (v: string) => /^\d+$/.test(v) && Number(v) >= 1;
const long = (v: string) => /^-?\d+$/.test(v);
const bool = (v: string) => v === 'true' || v === 'false';

/** Name → validator. Only min.insync.replicas and unclean.leader.election.enable change behaviour. */
export const TOPIC_CONFIGS: Record<string, (v: string) => boolean> = {
  'min.insync.replicas': positiveInt,
  'unclean.leader.election.enable': bool,
  'cleanup.policy': (v) => v.split(',').every((p) => p.trim() === 'delete' || p.trim() === 'compact'),
  'retention.ms': long,
  'retention.bytes': long,
  'segment.bytes': positiveInt,
  'segment.ms': positiveInt,
  'max.message.bytes': positiveInt,
  'compression.type': (v) => ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'].includes(v),
  'message.timestamp.type': (v) => v === 'CreateTime' || v === 'LogAppendTime',
  'delete.retention.ms': long,
  'min.compaction.lag.ms': long,
  'flush.messages': positiveInt,
  'flush.ms': long,
};

export function validateTopicConfig(name: string, value: string | null): void {
  const check = TOPIC_CONFIGS[name];
  if (!check) throw new KafkaApiError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${name}`);
  if (value === null || !check(value))
    throw new KafkaApiError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration ${name}`);
  if (name === 'compression.type' && (value === 'snappy' || value === 'lz4'))
    throw new KafkaApiError(
      ErrorCode.INVALID_CONFIG,
      `compression.type ${value} is not supported by the twin's broker (none, gzip, zstd)`,
    );
}

/** Kafka's legal topic names: [a-zA-Z0-9._-]{1,249}, not "." or "..". */
export function validateTopicName(name: string): void {
  if (!name || name === '.' || name === '..' || name.length > 249 || !/^[a-zA-Z0-9._-]+$/.test(name))
    throw new KafkaApiError(
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`,
    );
}
