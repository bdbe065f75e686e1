import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Environment } from '../../env/environment.ts';
import { ConformanceCaseContext, type WaitPolicy } from './case-context.ts';
import { AREAS, type ConformanceCase, type Need } from './conformance-case.ts';
import { imagesFor } from './images.ts';

export interface ConformanceRun {
  /** The environment's name (`local`, `k3d`): it picks the images. */
  environment: 'local' | 'k3d';
  up: () => Promise<Environment>;
  cases: readonly ConformanceCase[];
  /** Real-time limit of one case. */
  caseTimeoutMs: number;
  waits: WaitPolicy;
  /** Needs this environment cannot meet here, each with the reason its cases are skipped. */
  unavailable?: Partial<Record<Need, string>>;
}

/**
 * Registers the cases on one environment (kwok's kwokctl/<runtime>/main_test.go calling the shared
 * cases): the environment comes up once for all of them, each case runs in a namespace of its own
 * that is deleted after it (with every pod in it gone, so the next case finds the nodes empty), and
 * the environment goes down after the last one, also when a case fails.
 */
export function registerConformance(run: ConformanceRun): void {
  let env: Environment | undefined;
  const images = imagesFor(run.environment);
  let serial = 0;

  beforeAll(async () => {
    env = await run.up();
  }, 600_000);

  afterAll(async () => {
    await env?.down();
  }, 300_000);

  for (const area of AREAS) {
    const cases = run.cases.filter((c) => c.area === area);
    if (cases.length === 0) continue;
    describe(area, () => {
      for (const c of cases) {
        const n = ++serial;
        it(
          `${c.title} (${c.docs})`,
          async (test) => {
            if (!env) throw new Error('the environment did not come up');
            if (c.needs === 'load' && !env.load)
              test.skip(
                `needs env.load (emulated workload load): the ${env.name} environment's HPA reads real usage from metrics-server`,
              );
            const missing = c.needs ? run.unavailable?.[c.needs] : undefined;
            if (missing) test.skip(missing);
            const t = new ConformanceCaseContext(
              env,
              `conformance-${String(n).padStart(3, '0')}`,
              images,
              run.waits,
            );
            await t.open();
            try {
              await c.run(t);
            } catch (err) {
              // The case's own failure is the one to report; cleanup still runs.
              await t.close().catch(() => {});
              throw err;
            }
            await t.close();
          },
          run.caseTimeoutMs,
        );
      }
    });
  }
}
