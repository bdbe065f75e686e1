import { describe, expect, it } from 'vitest';
import {
  LabelSelectorSyntaxError,
  matchesRequirements,
  parseLabelSelector,
} from '../../kube/label-selector-string.ts';

const labels = { app: 'web', tier: 'front', rank: '5' };
const matches = (s: string, l: Record<string, string> = labels) =>
  matchesRequirements(parseLabelSelector(s), l);

describe('parseLabelSelector', () => {
  it('parses every operator of the label selector grammar', () => {
    expect(parseLabelSelector('app=web,!gone,tier in (front, back),env notin (prod),rank>3,x')).toEqual([
      { key: 'app', operator: 'In', values: ['web'] },
      { key: 'env', operator: 'NotIn', values: ['prod'] },
      { key: 'gone', operator: 'DoesNotExist' },
      { key: 'rank', operator: 'Gt', values: ['3'] },
      { key: 'tier', operator: 'In', values: ['back', 'front'] },
      { key: 'x', operator: 'Exists' },
    ]);
    expect(parseLabelSelector('')).toEqual([]);
    expect(parseLabelSelector('a==b')).toEqual([{ key: 'a', operator: 'In', values: ['b'] }]);
    expect(parseLabelSelector('a!=b')).toEqual([{ key: 'a', operator: 'NotIn', values: ['b'] }]);
    expect(parseLabelSelector('example.com/app=x')[0]!.key).toBe('example.com/app');
  });

  it('matches as the API does', () => {
    expect(matches('app=web')).toBe(true);
    expect(matches('app=api')).toBe(false);
    expect(matches('app!=api')).toBe(true);
    expect(matches('missing!=x')).toBe(true);
    expect(matches('tier in (front,back)')).toBe(true);
    expect(matches('tier notin (front)')).toBe(false);
    expect(matches('!tier')).toBe(false);
    expect(matches('rank>4,rank<6')).toBe(true);
    expect(matches('rank>5')).toBe(false);
    expect(matches('app')).toBe(true);
    expect(matches('app=web,tier=back')).toBe(false);
  });

  it('rejects malformed selectors with the upstream wording', () => {
    const err = (s: string) => {
      try {
        parseLabelSelector(s);
      } catch (e) {
        expect(e).toBeInstanceOf(LabelSelectorSyntaxError);
        return (e as Error).message;
      }
      return 'parsed';
    };
    expect(err('a in b')).toBe("unable to parse requirement: found 'b' expected: '('");
    expect(err('a=b,')).toBe("found '', expected: identifier after ','");
    expect(err('a b')).toBe(
      "unable to parse requirement: found 'b', expected: '=', '!=', '==', 'in', notin'",
    );
    expect(err('a=b c')).toBe("found 'c', expected: ',' or 'end of string'");
    expect(err('rank>x')).toMatch(/for 'Gt', 'Lt' operators, the value must be an integer/);
    expect(err('-bad-=x')).toMatch(/^unable to parse requirement: key: Invalid value: "-bad-"/);
  });
});
