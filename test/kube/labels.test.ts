import { describe, expect, it } from 'vitest';
import { matchesMap, matchesRequirement, matchesSelector } from '../../kube/labels.ts';

const labels = { app: 'api', tier: 'back', env: 'prod' };

describe('matchesSelector', () => {
  it('matches everything with an empty selector and nothing with a missing one', () => {
    expect(matchesSelector({}, labels)).toBe(true);
    expect(matchesSelector({}, {})).toBe(true);
    expect(matchesSelector({ matchLabels: {}, matchExpressions: [] }, labels)).toBe(true);
    expect(matchesSelector(null, labels)).toBe(false);
    expect(matchesSelector(undefined, labels)).toBe(false);
  });

  it('requires every matchLabels pair', () => {
    expect(matchesSelector({ matchLabels: { app: 'api' } }, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'api', tier: 'back' } }, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'api', tier: 'front' } }, labels)).toBe(false);
    expect(matchesSelector({ matchLabels: { missing: '' } }, labels)).toBe(false);
  });

  it('ANDs matchLabels with matchExpressions', () => {
    const sel = {
      matchLabels: { app: 'api' },
      matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }],
    };
    expect(matchesSelector(sel, labels)).toBe(true);
    expect(matchesSelector(sel, { ...labels, env: 'dev' })).toBe(false);
    expect(matchesSelector(sel, { ...labels, app: 'web' })).toBe(false);
  });
});

describe('matchesRequirement', () => {
  it('In: the key exists with one of the values', () => {
    expect(matchesRequirement({ key: 'tier', operator: 'In', values: ['back', 'front'] }, labels)).toBe(true);
    expect(matchesRequirement({ key: 'tier', operator: 'In', values: ['front'] }, labels)).toBe(false);
    expect(matchesRequirement({ key: 'zone', operator: 'In', values: [''] }, labels)).toBe(false);
  });

  it('NotIn: the key is missing or has none of the values', () => {
    expect(matchesRequirement({ key: 'tier', operator: 'NotIn', values: ['front'] }, labels)).toBe(true);
    expect(matchesRequirement({ key: 'tier', operator: 'NotIn', values: ['back'] }, labels)).toBe(false);
    expect(matchesRequirement({ key: 'zone', operator: 'NotIn', values: ['a'] }, labels)).toBe(true);
  });

  it('Exists and DoesNotExist look at the key only', () => {
    expect(matchesRequirement({ key: 'app', operator: 'Exists' }, labels)).toBe(true);
    expect(matchesRequirement({ key: 'app', operator: 'Exists' }, { app: '' })).toBe(true);
    expect(matchesRequirement({ key: 'zone', operator: 'Exists' }, labels)).toBe(false);
    expect(matchesRequirement({ key: 'zone', operator: 'DoesNotExist' }, labels)).toBe(true);
    expect(matchesRequirement({ key: 'app', operator: 'DoesNotExist' }, labels)).toBe(false);
  });

  it('does not take inherited properties for labels', () => {
    expect(matchesRequirement({ key: 'toString', operator: 'Exists' }, {})).toBe(false);
    expect(matchesRequirement({ key: 'constructor', operator: 'DoesNotExist' }, {})).toBe(true);
  });

  it('an unknown operator matches nothing', () => {
    expect(matchesRequirement({ key: 'app', operator: 'Gt', values: ['1'] }, labels)).toBe(false);
  });
});

describe('matchesMap (Service selectors)', () => {
  it('selects nothing when empty or missing, otherwise needs every pair', () => {
    expect(matchesMap({}, labels)).toBe(false);
    expect(matchesMap(undefined, labels)).toBe(false);
    expect(matchesMap({ app: 'api' }, labels)).toBe(true);
    expect(matchesMap({ app: 'api', env: 'dev' }, labels)).toBe(false);
  });
});
