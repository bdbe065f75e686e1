import { ConfigError, numberFromEnv } from '../lib/config-error.ts';
import { log } from '../lib/log.ts';
import { runAwsPipeline } from './aws-pipeline.ts';
import { generateReadings, readReadings } from './extract.ts';
import { startJobMetrics } from './job-metrics.ts';
import { discardSink, jsonLinesSink, load } from './load.ts';
import { qualityCheck } from './quality-check.ts';
import { transform } from './transform.ts';

/** The batch job: extract → transform → quality check → load, then one JSON summary line on stdout. */
async function main(env: NodeJS.ProcessEnv): Promise<number> {
  const metrics = await startJobMetrics(env);
  const started = performance.now();
  try {
    return await runBatch(env, async (records, passed) =>
      metrics.recordBatch({ records, passed, seconds: (performance.now() - started) / 1000 }),
    );
  } finally {
    await metrics.close();
  }
}

async function runBatch(
  env: NodeJS.ProcessEnv,
  record: (records: Record<string, number>, passed: boolean) => Promise<void>,
): Promise<number> {
  const batchSize = numberFromEnv(env, 'BATCH_SIZE', 1000, { min: 0 });
  if (!Number.isInteger(batchSize))
    throw new ConfigError(`BATCH_SIZE=${env['BATCH_SIZE']} is not an integer`);
  const maxRejectRatio = numberFromEnv(env, 'QUALITY_MAX_REJECT_RATIO', 0.05, { min: 0, max: 1 });
  const invalidRatio = numberFromEnv(env, 'INJECT_INVALID_RATIO', 0.02, { min: 0, max: 1 });
  const seed = numberFromEnv(env, 'SEED', Date.now() % 2 ** 31, { min: 0 });

  if (env['IOT_STREAM'] || env['RAW_BUCKET']) {
    const { passed, summary } = await runAwsPipeline(env, maxRejectRatio);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    await record(awsBatchRecords(summary), passed);
    if (!passed) {
      log('error', 'quality gate failed: reject ratio above QUALITY_MAX_REJECT_RATIO', {
        rejectRatio: summary.rejectRatio,
        maxRejectRatio,
      });
      return 1;
    }
    return 0;
  }

  const raw = env['INPUT_PATH']
    ? (await readReadings(env['INPUT_PATH'])).slice(0, batchSize || undefined)
    : generateReadings(batchSize, { seed, invalidRatio });
  const transformed = transform(raw);
  const { accepted, rejected } = qualityCheck(transformed);
  const sink = env['OUTPUT_PATH'] ? jsonLinesSink(env['OUTPUT_PATH']) : discardSink();
  const rejectRatio = transformed.length === 0 ? 0 : rejected.length / transformed.length;
  const passed = rejectRatio <= maxRejectRatio;
  // A batch that fails the quality gate is not loaded: half-bad data must not reach the lake.
  const loaded = passed ? await load(accepted, sink) : 0;

  const reasons: Record<string, number> = {};
  for (const r of rejected)
    for (const reason of r.reasons) {
      const key = reason.split(' ')[0] + (reason.endsWith('missing') ? ' missing' : ' out of range');
      reasons[key] = (reasons[key] ?? 0) + 1;
    }
  const summary = {
    extracted: raw.length,
    transformed: transformed.length,
    rejected: rejected.length,
    loaded,
    rejectRatio: Math.round(rejectRatio * 1e4) / 1e4,
    maxRejectRatio,
    sink: sink.name,
    reasons,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  await record(
    { extracted: raw.length, transformed: transformed.length, rejected: rejected.length, loaded },
    passed,
  );
  if (!passed) {
    log('error', 'quality gate failed: reject ratio above QUALITY_MAX_REJECT_RATIO', {
      rejectRatio,
      maxRejectRatio,
    });
    return 1;
  }
  return 0;
}

/** The AWS pipeline's summary as the batch figures of the job metrics (loaded: the most any sink took). */
function awsBatchRecords(
  summary: Awaited<ReturnType<typeof runAwsPipeline>>['summary'],
): Record<string, number> {
  const { s3, dynamodb, dwh } = summary.loaded;
  return {
    extracted: summary.extracted.total,
    transformed: summary.transformed,
    rejected: summary.rejected,
    loaded: Math.max(s3, dynamodb, dwh),
  };
}

main(process.env).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(
      `etl: ${e instanceof ConfigError ? e.message : ((e as Error)?.stack ?? String(e))}\n`,
    );
    process.exit(1);
  },
);
