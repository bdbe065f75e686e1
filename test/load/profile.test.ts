import { describe, expect, it } from 'vitest';
import { isTwinError } from '../../core/errors.ts';
import { formatDuration, parseDuration } from '../../load/duration.ts';
import { scenarioDurationMs, scenarioMaxVus, validateProfile } from '../../load/profile.ts';
import { GATE_PROFILES, loadProfile, PROFILE_NAMES } from '../../load/profiles/index.ts';

const base = {
  name: 'p',
  target: { kind: 'Service', namespace: 'production', name: 'api' },
  scenario: { executor: 'constant-arrival-rate', rate: 10, duration: '5s', preAllocatedVUs: 2 },
  requests: [{ path: '/x' }],
};

describe('load profiles', () => {
  it('k6 durations', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration(250)).toBe(250);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('5 s')).toBeUndefined();
    expect(parseDuration('5x')).toBeUndefined();
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(250)).toBe('250ms');
  });

  it('accepts a valid profile and fills k6 defaults', () => {
    const p = validateProfile(base);
    expect(p.requests[0]).toMatchObject({ method: 'GET', weight: 1 });
    expect(p.thresholds).toEqual({});
    expect(scenarioDurationMs(p.scenario)).toBe(5000);
    expect(scenarioMaxVus(p.scenario)).toBe(2);
  });

  it('names the profile, its file and every bad field', () => {
    const bad = {
      ...base,
      scenario: {
        executor: 'constant-arrival-rate',
        rate: -1,
        duration: '5 seconds',
        preAllocatedVUs: 2,
        maxVUs: 1,
      },
      requests: [{ path: 'x' }],
      thresholds: { http_req_duration: ['p95<300'], nope: ['count>1'] },
    };
    try {
      validateProfile(bad, 'load/profiles/p.ts');
      expect.unreachable();
    } catch (e) {
      expect(isTwinError(e, 'TWIN_LOAD_PROFILE_INVALID')).toBe(true);
      const m = (e as Error).message;
      expect(m).toMatch(/^load profile "p" \(load\/profiles\/p\.ts\): /);
      expect(m).toMatch(/scenario\.rate: /);
      expect(m).toMatch(/scenario\.duration: is not a k6 duration/);
      expect(m).toMatch(/requests\.0\.path: must start with '\/'/);
      expect(m).toMatch(/thresholds\.http_req_duration\.0: "p95<300" on http_req_duration is not/);
      expect(m).toMatch(/thresholds\.nope: no metric named "nope"/);
    }
  });

  it('rejects an unknown executor and unknown fields', () => {
    expect(() => validateProfile({ ...base, scenario: { executor: 'shared-iterations', vus: 1 } })).toThrow(
      /load profile "p": scenario\.executor: /,
    );
    expect(() => validateProfile({ ...base, scenario: { ...base.scenario, vus: 3 } })).toThrow(
      /scenario: .*vus/,
    );
    expect(() => validateProfile({ ...base, maxVUs: 1 })).toThrow(/maxVUs/);
  });

  it('the seed profiles are valid, bounded in time and addressed to the environment (no host in paths)', () => {
    expect(PROFILE_NAMES).toEqual(['smoke', 'steady', 'spike', 'soak']);
    for (const name of PROFILE_NAMES) {
      const p = loadProfile(name);
      expect(scenarioDurationMs(p.scenario)).toBeGreaterThan(0);
      expect(scenarioDurationMs(p.scenario)).toBeLessThanOrEqual(name === 'soak' ? 3_600_000 : 60_000);
      for (const r of p.requests) expect(r.path.startsWith('/')).toBe(true);
      expect(p.target.namespace).toBe('production');
    }
    const steady = loadProfile('steady');
    expect(steady.thresholds['http_req_failed']).toEqual(['rate<0.0005']);
    expect(steady.thresholds['http_req_duration']).toContain('p(95)<500');
    const gateSeconds =
      GATE_PROFILES.reduce((s, n) => s + scenarioDurationMs(loadProfile(n).scenario), 0) / 1000;
    expect(gateSeconds).toBeLessThanOrEqual(90);
    expect(() => loadProfile('nope')).toThrow(/no load profile "nope" \(known: smoke, steady, spike, soak\)/);
  });
});
