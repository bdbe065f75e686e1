import { describe, expect, it } from 'vitest';
import { DEFAULT_TIME_SCALE, runOptionsFromEnv } from '../../../harness/scenario/run-options.ts';

describe('run options', () => {
  it('takes --time-scale over the scenario’s own scale, and the scenario’s over the default', () => {
    expect(runOptionsFromEnv({}).timeScale).toBe(DEFAULT_TIME_SCALE);
    expect(runOptionsFromEnv({}, 10).timeScale).toBe(10);
    expect(runOptionsFromEnv({ TWIN_TIME_SCALE: '50' }, 10).timeScale).toBe(50);
  });

  it('refuses a time scale that is not a positive number', () => {
    expect(() => runOptionsFromEnv({ TWIN_TIME_SCALE: '0' }, 10)).toThrow(
      '--time-scale must be a positive number, got "0"',
    );
    expect(() => runOptionsFromEnv({}, -1)).toThrow(
      "the scenario's timeScale must be a positive number, got -1",
    );
  });
});
