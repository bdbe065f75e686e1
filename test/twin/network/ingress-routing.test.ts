import { describe, expect, it } from 'vitest';
import { parseAlbAction, SmoothWeightedRoundRobin } from '../../../twin/network/alb-actions.ts';
import {
  compileIngress,
  hostMatches,
  pathMatch,
  routeRequest,
} from '../../../twin/network/ingress-routing.ts';

describe('Ingress path matching (examples of the Kubernetes Ingress docs)', () => {
  const cases: Array<[type: 'Exact' | 'Prefix', path: string, request: string, matches: boolean]> = [
    ['Prefix', '/', '/anything', true],
    ['Exact', '/foo', '/foo', true],
    ['Exact', '/foo', '/bar', false],
    ['Exact', '/foo', '/foo/', false],
    ['Exact', '/foo/', '/foo', false],
    ['Prefix', '/foo', '/foo', true],
    ['Prefix', '/foo', '/foo/', true],
    ['Prefix', '/foo/', '/foo', true],
    ['Prefix', '/foo/', '/foo/', true],
    ['Prefix', '/aaa/bb', '/aaa/bbb', false],
    ['Prefix', '/aaa/bbb', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb/', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/ccc', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbbxyz', false],
  ];
  it.each(cases)('%s %s vs %s → %s', (type, path, request, matches) => {
    expect(pathMatch({ type, path }, request) >= 0).toBe(matches);
  });

  it('matches hosts exactly or by a one-label wildcard', () => {
    expect(hostMatches('foo.bar.com', 'foo.bar.com')).toBe(true);
    expect(hostMatches('*.foo.com', 'bar.foo.com')).toBe(true);
    expect(hostMatches('*.foo.com', 'baz.bar.foo.com')).toBe(false);
    expect(hostMatches('*.foo.com', 'foo.com')).toBe(false);
    expect(hostMatches('', 'anything')).toBe(true);
  });

  it('routes by longest match, exact host before wildcard before any, then defaultBackend', () => {
    const routes = compileIngress({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'i', namespace: 'n' },
      spec: {
        defaultBackend: { service: { name: 'default', port: { number: 80 } } },
        rules: [
          {
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'root', port: { number: 80 } } },
                },
                {
                  path: '/api',
                  pathType: 'Prefix',
                  backend: { service: { name: 'api', port: { name: 'http' } } },
                },
                {
                  path: '/api/v1',
                  pathType: 'ImplementationSpecific',
                  backend: { service: { name: 'api-v1', port: { number: 80 } } },
                },
                {
                  path: '/api/v1/health',
                  pathType: 'Exact',
                  backend: { service: { name: 'health', port: { number: 80 } } },
                },
              ],
            },
          },
          {
            host: 'shop.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'shop', port: { number: 80 } } },
                },
              ],
            },
          },
          {
            host: '*.example.com',
            http: {
              paths: [
                {
                  path: '/x',
                  pathType: 'Exact',
                  backend: { service: { name: 'wild', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    });
    const to = (host: string, url: string) => routeRequest(routes, host, url)?.service;
    expect(to('any.host', '/api/v1/users?x=1')).toEqual({ name: 'api-v1', port: 80 });
    expect(to('any.host', '/api/v1/health')).toEqual({ name: 'health', port: 80 });
    expect(to('any.host', '/api/v1/health/')).toEqual({ name: 'api-v1', port: 80 });
    expect(to('any.host', '/apis')).toEqual({ name: 'root', port: 80 });
    expect(to('any.host', '/api')).toEqual({ name: 'api', port: 'http' });
    expect(to('shop.example.com:8080', '/api')).toEqual({ name: 'shop', port: 80 });
    expect(to('a.example.com', '/x')).toEqual({ name: 'wild', port: 80 });
    expect(to('a.example.com', '/y')).toEqual({ name: 'root', port: 80 });
    const noRoot = compileIngress({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'i' },
      spec: {
        defaultBackend: { service: { name: 'default', port: { number: 80 } } },
        rules: [
          {
            host: 'a.com',
            http: {
              paths: [
                { path: '/a', pathType: 'Prefix', backend: { service: { name: 'a', port: { number: 80 } } } },
              ],
            },
          },
        ],
      },
    });
    expect(routeRequest(noRoot, 'b.com', '/a')?.service?.name).toBe('default');
  });
});

describe('ALB actions', () => {
  it('reads the forward action as the LBC docs and as Argo Rollouts write it', () => {
    const lbc = parseAlbAction(
      JSON.stringify({
        type: 'forward',
        forwardConfig: {
          targetGroups: [
            { serviceName: 'stable', servicePort: '80', weight: 90 },
            { serviceName: 'canary', servicePort: 80, weight: 10 },
          ],
        },
      }),
      'test',
    );
    const argo = parseAlbAction(
      JSON.stringify({
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { ServiceName: 'stable', ServicePort: '80', Weight: 90 },
            { ServiceName: 'canary', ServicePort: '80', Weight: 10 },
          ],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      }),
      'test',
    );
    expect(lbc).toEqual(argo);
    expect(argo).toEqual({
      type: 'forward',
      targetGroups: [
        { serviceName: 'stable', servicePort: 80, weight: 90 },
        { serviceName: 'canary', servicePort: 80, weight: 10 },
      ],
    });
    expect(() => parseAlbAction('{', 'Ingress a/b')).toThrow(
      /Ingress a\/b: the annotation is not valid JSON/,
    );
  });

  it('spreads picks exactly by weight', () => {
    const wrr = new SmoothWeightedRoundRobin([
      { item: 'stable', weight: 90 },
      { item: 'canary', weight: 10 },
      { item: 'off', weight: 0 },
    ]);
    const picks = Array.from({ length: 100 }, () => wrr.next());
    expect(picks.filter((p) => p === 'canary')).toHaveLength(10);
    expect(picks).not.toContain('off');
    // Evenly spread: never two canary picks in a row.
    expect(picks.some((p, i) => p === 'canary' && picks[i + 1] === 'canary')).toBe(false);
  });
});
