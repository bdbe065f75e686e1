import { expect, it } from 'vitest';
import { scenario } from '../harness/index.ts';
import { squareImage, until, waitForImageflowDeployments } from './support/imageflow.ts';

const BACKEND = { namespace: 'imageflow-backend', name: 'backend-api', port: 8000 };
const JOBS_TOPIC = 'image-processing-jobs';
const BEFORE = 20;
const AFTER = 20;
/**
 * ImageFlowCanvas (seed 003) loses one of its three Kafka brokers under load: images keep being
 * posted to the backend, which produces each job with acks=all (replication factor 3,
 * min.insync.replicas 2), while the pod of the broker leading partition 0 of the jobs topic is
 * killed. No job the backend acknowledged (202) may be lost: every one must complete. Measured: the
 * producer's error window (503s while the leadership moves), and the time from the kill until the
 * consumers have drained every accepted job.
 */
scenario(
  'kafka-broker-loss',
  { system: 'imageflowcanvas', upTimeoutMs: 240_000, faults: ['killPod'] },
  (s) => {
    it('completes every acknowledged job when the leading broker is killed under load', async () => {
      const env = s.env;
      await s.step('wait for the processing services, the backend and the workers', () =>
        waitForImageflowDeployments(env),
      );
      const backend = await env.net.serviceUrl(BACKEND);
      await s.step('wait for the backend to be ready', () =>
        until('backend /readyz', 120_000, async () => (await fetch(`${backend}/readyz`)).ok),
      );

      const accepted: string[] = [];
      const failures: number[] = [];
      let sent = 0;
      let stop = false;
      let target = BEFORE;
      const load = (async () => {
        while (!stop || sent < target) {
          if (sent >= target) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          sent++;
          const res = await fetch(`${backend}/v1/jobs`, {
            method: 'POST',
            body: new Uint8Array(squareImage(sent)),
          }).catch(() => undefined);
          if (res?.status === 202) accepted.push(((await res.json()) as { jobId: string }).jobId);
          else {
            failures.push(performance.now());
            await res?.body?.cancel();
          }
        }
      })();
      await s.step(`post ${BEFORE} images`, () =>
        until('first images posted', 60_000, async () => sent >= BEFORE),
      );

      const stats = (await (await fetch(`${backend}/v1/stats`)).json()) as {
        leaders: Record<string, Record<string, number>>;
      };
      const leader = stats.leaders[JOBS_TOPIC]?.['0'];
      expect(leader, `the leader of ${JOBS_TOPIC}-0`).toBeGreaterThanOrEqual(0);
      const pod = `kafka-${leader}`;
      const killedAt = performance.now();
      target = BEFORE + AFTER;
      await s.step(`kill pod imageflow-messaging/${pod} (leader of ${JOBS_TOPIC}-0) while posting`, () =>
        env.faults.killPod({ namespace: 'imageflow-messaging', name: pod }),
      );
      stop = true;
      await s.step(`post ${AFTER} more images`, () => load);

      const notCompleted = await s.step(
        'wait until every accepted job is completed (at most 180 s)',
        async () => {
          const deadline = Date.now() + 180_000;
          for (;;) {
            const statuses = await Promise.all(
              accepted.map(async (id) =>
                fetch(`${backend}/v1/jobs/${id}`)
                  .then(async (r) => ((await r.json()) as { status: string }).status)
                  .catch(() => 'unknown'),
              ),
            );
            const pending = accepted.filter((_, i) => statuses[i] !== 'completed');
            if (pending.length === 0 || Date.now() > deadline) return pending;
            await new Promise((r) => setTimeout(r, 500));
          }
        },
      );
      const drainedS = (performance.now() - killedAt) / 1000;
      const after = (await (await fetch(`${backend}/v1/stats`)).json()) as {
        topics: Record<string, number>;
        leaders: Record<string, Record<string, number>>;
      };

      s.measure('images posted', sent, 'images', { equals: BEFORE + AFTER });
      s.measure('jobs acknowledged by the backend (acks=all)', accepted.length, 'jobs', {
        atLeast: BEFORE,
        description: 'posts refused with 503 while the leadership moved are not acknowledged',
      });
      s.measure('acknowledged jobs not completed (lost)', notCompleted.length, 'jobs', { equals: 0 });
      s.measure('records in the jobs topic', after.topics[JOBS_TOPIC] ?? -1, 'records', {
        atLeast: accepted.length,
      });
      s.measure('posts refused during the broker loss (503)', failures.length, 'requests');
      s.measure(
        'producer error window',
        failures.length ? (failures.at(-1)! - failures[0]!) / 1000 : 0,
        's',
        {
          below: 30,
        },
      );
      s.measure('time from the kill until every accepted job completed', drainedS, 's', { below: 120 });
      expect(after.leaders[JOBS_TOPIC]?.['0'], `a new leader of ${JOBS_TOPIC}-0`).toBeGreaterThanOrEqual(0);
    });
  },
);
