import { describe, expect, it } from 'vitest';
import { ExprError, evaluateCondition, evaluateExpr } from '../../../twin/rollouts/expr.ts';

describe('expr (Argo successCondition/failureCondition)', () => {
  it.each([
    ['result < 0.05', { result: 0.01 }, true],
    ['result < 0.05', { result: 0.2 }, false],
    ['result[0] >= 0.95', { result: [0.97, 0.5] }, true],
    [
      'result.errorRate <= 0.01 && result.requests > 10',
      { result: { errorRate: 0.001, requests: 100 } },
      true,
    ],
    [
      'result.errorRate <= 0.01 and not (result.requests > 10)',
      { result: { errorRate: 0.001, requests: 100 } },
      false,
    ],
    ['result == nil || result < 0.05', { result: null }, true],
    ['default(result, 0) < 0.05', { result: null }, true],
    ['isNaN(result) or result > 1', { result: Number.NaN }, true],
    ['len(result) == 2', { result: [1, 2] }, true],
    ['result.status == "ok"', { result: { status: 'ok' } }, true],
    ["result.status != 'ok'", { result: { status: 'ok' } }, false],
    ['(result.a + result.b) * 2 == 10', { result: { a: 2, b: 3 } }, true],
    ['result - 1 > -1 * 2', { result: 0 }, true],
    ['!(result > 3)', { result: 1 }, true],
    ['result == true', { result: true }, true],
    ['asFloat(result) > 0.5', { result: '0.75' }, true],
    ['result in [1, 2, 3]', { result: 2 }, true],
    ['result > 1 ? true : false', { result: 2 }, true],
    ['2 ** 3 == 8 && 7 % 4 == 3', { result: 0 }, true],
  ])('%s with %j is %s', (expression, env, expected) => {
    expect(evaluateCondition(expression, env)).toBe(expected);
  });

  it('evaluates arithmetic and members to values', () => {
    expect(evaluateExpr('result.latency.p95 / 1000', { result: { latency: { p95: 250 } } })).toBe(0.25);
    expect(evaluateExpr('result.missing', { result: {} })).toBeNull();
  });

  it.each([
    ['result <', 'unexpected end of expression'],
    ['result < < 1', "unexpected token '<' at column 10"],
    ['(result > 1', "expected ')'"],
    ['result > 1)', "unexpected token ')' at column 11"],
    ['result # 1', "unexpected character '#' at column 8"],
    ['"open', 'unterminated string'],
    ['', 'empty expression'],
  ])('rejects the malformed %j naming the expression', (expression, reason) => {
    const err = (() => {
      try {
        evaluateCondition(expression, { result: 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ExprError);
    expect((err as Error).message).toContain(`expression "${expression}"`);
    expect((err as Error).message).toContain(reason);
  });

  it.each([
    ['result < 0.05', { result: null }, 'invalid operation: nil < number 0.05'],
    ['result < 1', { result: 'a' }, 'invalid operation'],
    ['result.x > 1', { result: null }, 'cannot fetch x from nil'],
    ['result[3] > 1', { result: [1] }, 'index out of range'],
    ['result', { result: 1 }, 'expected a boolean result, got number 1'],
    ['unknown > 1', { result: 1 }, 'unknown name unknown'],
    ['frobnicate(result)', { result: 1 }, 'unknown function frobnicate()'],
  ])('reports the evaluation error of %j', (expression, env, reason) => {
    expect(() => evaluateCondition(expression, env)).toThrow(reason);
  });
});
