import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIME_SCALE,
  defaultRunOptions,
  RUN_OPTIONS_VAR,
  runOptionsFromWorker,
  scenarioRunOptions,
  serializeRunOptions,
} from '../../../harness/scenario/run-options.ts';

describe('run options', () => {
  it('takes --time-scale over the scenario’s own scale, and the scenario’s over the default', () => {
    const d = defaultRunOptions();
    expect(scenarioRunOptions(d, undefined).timeScale).toBe(DEFAULT_TIME_SCALE);
    expect(scenarioRunOptions(d, 10).timeScale).toBe(10);
    expect(scenarioRunOptions({ ...d, timeScale: 50, timeScaleGiven: true }, 10).timeScale).toBe(50);
    // A real cluster's clock is what it is: the scenario's own scale is for the twin.
    expect(scenarioRunOptions({ ...d, env: 'cluster', timeScale: 1 }, 10).timeScale).toBe(1);
  });

  it('reach the worker serialized once', () => {
    const run = {
      ...defaultRunOptions(),
      timeScale: 20,
      timeScaleGiven: true,
      profile: 'k3s',
      kubeconfig: '/k',
    };
    expect(runOptionsFromWorker({ [RUN_OPTIONS_VAR]: serializeRunOptions(run) })).toEqual(run);
  });

  it('refuses a time scale that is not a positive number', () => {
    expect(() => scenarioRunOptions(defaultRunOptions(), -1)).toThrow(
      "the scenario's timeScale must be a positive number, got -1",
    );
    expect(() => runOptionsFromWorker({ [RUN_OPTIONS_VAR]: JSON.stringify({ timeScale: 0 }) })).toThrow(
      'timeScale must be a positive number, got 0',
    );
  });
});
