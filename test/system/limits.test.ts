import { describe, expect, it } from 'vitest';
import { limit } from '../../system/limits.ts';

describe('limits', () => {
  it('the node bound is 5,000 (what Kubernetes supports) unless TWIN_MAX_NODES raises it', () => {
    expect(limit('nodes', {})).toBe(5000);
    expect(limit('nodes', { TWIN_MAX_NODES: '20000' })).toBe(20000);
    expect(() => limit('nodes', { TWIN_MAX_NODES: 'many' })).toThrow(
      'TWIN_MAX_NODES: "many" is not a whole number ≥ 1',
    );
  });
});
