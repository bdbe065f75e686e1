/**
 * DescribeConfigs for topics (resource type 2: the topic's overrides, else the broker's defaults) and
 * brokers (4: this broker's properties).
 */
import { TOPIC_CONFIGS } from '../../controller/topic-configs.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { Handler } from '../broker-context.ts';

const TOPIC_DEFAULTS: Record<string, string> = {
  'cleanup.policy': 'delete',
  'retention.ms': '604800000',
  'retention.bytes': '-1',
  'segment.bytes': '1073741824',
  'segment.ms': '604800000',
  'compression.type': 'producer',
  'message.timestamp.type': 'CreateTime',
  'delete.retention.ms': '86400000',
  'min.compaction.lag.ms': '0',
  'flush.messages': '9223372036854775807',
  'flush.ms': '9223372036854775807',
};

const SOURCE = { DYNAMIC_TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 };

export const describeConfigs: Handler = async (ctx, req) => {
  const results = req.resources.map((r: any) => {
    const base = {
      errorCode: 0,
      errorMessage: null,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    };
    const wanted = (name: string) => r.configurationKeys === null || r.configurationKeys.includes(name);
    const entry = (name: string, value: string, source: number) => ({
      name,
      value,
      readOnly: source !== SOURCE.DYNAMIC_TOPIC_CONFIG,
      isDefault: source === SOURCE.DEFAULT_CONFIG,
      configSource: source,
      isSensitive: false,
      synonyms: [],
      configType: 0,
      documentation: null,
    });
    if (r.resourceType === 2) {
      const t = ctx.image.topics.get(r.resourceName);
      if (!t)
        return {
          ...base,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `Topic ${r.resourceName} does not exist.`,
          configs: [],
        };
      const configs = Object.keys(TOPIC_CONFIGS)
        .filter(wanted)
        .map((name) => {
          const override = t.configs.get(name);
          if (override !== undefined) return entry(name, override, SOURCE.DYNAMIC_TOPIC_CONFIG);
          const broker = ctx.config.props.get(name) ?? ctx.config.props.get(`log.${name}`);
          if (broker !== undefined) return entry(name, broker, SOURCE.STATIC_BROKER_CONFIG);
          return entry(name, TOPIC_DEFAULTS[name] ?? '', SOURCE.DEFAULT_CONFIG);
        });
      return { ...base, configs };
    }
    if (r.resourceType === 4) {
      if (r.resourceName !== '' && r.resourceName !== String(ctx.config.nodeId))
        return {
          ...base,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `Unexpected broker id, expected ${ctx.config.nodeId} but received ${r.resourceName}`,
          configs: [],
        };
      return {
        ...base,
        configs: [...ctx.config.props]
          .filter(([k]) => wanted(k))
          .map(([k, val]) => entry(k, val, SOURCE.STATIC_BROKER_CONFIG)),
      };
    }
    return {
      ...base,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `resource type ${r.resourceType} is not supported by the twin's broker (topics and brokers are)`,
      configs: [],
    };
  });
  return { throttleTimeMs: 0, results };
};
