import { describe, expect, it } from 'vitest';
import { evaluateJsonPath } from '../../../twin/rollouts/jsonpath.ts';

const data = {
  errorRate: 0.02,
  latency: { p95: 120 },
  data: {
    items: [
      { name: 'a', value: 1 },
      { name: 'b', value: 2 },
    ],
    'dotted.key': 'x',
  },
  status: 'success',
};

describe('jsonpath (Kubernetes style, as Argo web metrics use it)', () => {
  it.each([
    ['{$.errorRate}', 0.02],
    ['{.errorRate}', 0.02],
    ['$.latency.p95', 120],
    ['{$.data.items[0]}', { name: 'a', value: 1 }],
    ['{$.data.items[1].value}', 2],
    ['{$.data.items[-1].name}', 'b'],
    ['{$.data.items[*].name}', ['a', 'b']],
    ["{$.data['dotted.key']}", 'x'],
    ['{$}', data],
    ['{.status}', 'success'],
  ])('%s', (path, expected) => {
    expect(evaluateJsonPath(path, data)).toEqual(expected);
  });

  it('says which part of the path is not found', () => {
    expect(() => evaluateJsonPath('{$.data.nothing}', data)).toThrow(
      'jsonPath "{$.data.nothing}": nothing is not found',
    );
    expect(() => evaluateJsonPath('{$.data.items[5]}', data)).toThrow('array index 5 is not found');
  });

  it('rejects malformed paths', () => {
    expect(() => evaluateJsonPath('{$.data.items[?(@.a)]}', data)).toThrow('unsupported subscript');
    expect(() => evaluateJsonPath('{$.data.items[0}', data)).toThrow("unclosed '['");
  });
});
