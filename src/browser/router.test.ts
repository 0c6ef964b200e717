import { describe, expect, it } from 'vitest';
import { parseRoute, routeHash } from './router';

describe('parseRoute', () => {
  it('maps the empty hash and #/ to the runs page', () => {
    expect(parseRoute('')).toEqual({ name: 'runs' });
    expect(parseRoute('#')).toEqual({ name: 'runs' });
    expect(parseRoute('#/')).toEqual({ name: 'runs' });
    expect(parseRoute('#/runs')).toEqual({ name: 'runs' });
  });
  it('maps #/models to the models page', () => {
    expect(parseRoute('#/models')).toEqual({ name: 'models' });
    expect(parseRoute('#/models/')).toEqual({ name: 'models' });
    expect(routeHash({ name: 'models' })).toBe('#/models');
  });
  it('reads a run id', () => {
    expect(parseRoute('#/runs/12')).toEqual({ name: 'run', runId: 12 });
    expect(parseRoute('#/runs/12/')).toEqual({ name: 'run', runId: 12 });
  });
  it('rejects anything else', () => {
    expect(parseRoute('#/runs/0')).toEqual({ name: 'not-found', hash: '#/runs/0' });
    expect(parseRoute('#/runs/abc')).toEqual({ name: 'not-found', hash: '#/runs/abc' });
    expect(parseRoute('#/runs/-3')).toEqual({ name: 'not-found', hash: '#/runs/-3' });
    expect(parseRoute('#/models/x')).toEqual({ name: 'not-found', hash: '#/models/x' });
  });
});

describe('routeHash', () => {
  it('round-trips with parseRoute', () => {
    expect(routeHash({ name: 'runs' })).toBe('#/');
    expect(routeHash({ name: 'run', runId: 7 })).toBe('#/runs/7');
    expect(parseRoute(routeHash({ name: 'run', runId: 7 }))).toEqual({ name: 'run', runId: 7 });
  });
});
