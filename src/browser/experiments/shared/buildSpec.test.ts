import { describe, expect, it } from 'vitest';
import { buildSpec, schemaErrors } from './buildSpec';

describe('buildSpec', () => {
  it('names the spec after the kind unless named, and checks it against the schema', () => {
    const built = buildSpec('kernel-scaling', '  ', (name) => ({ kind: 'kernel-scaling', name, variants: ['exact'], seqLens: [8] }));
    expect(built).toEqual({ spec: { kind: 'kernel-scaling', name: 'kernel-scaling', variants: ['exact'], seqLens: [8] }, errors: [] });
    expect(buildSpec('kernel-scaling', ' mine ', (name) => ({ kind: 'kernel-scaling', name, variants: ['sliding'], seqLens: [8] })).errors).toEqual(['windows: the sliding variant needs at least one window size']);
  });

  it('keeps the form messages and skips the schema while there are any', () => {
    const built = buildSpec('kernel-scaling', 'x'.repeat(201), (name, errors) => {
      errors.push('Heads: required');
      return { kind: 'kernel-scaling', name, variants: [], seqLens: [] };
    });
    expect(built.errors).toEqual(['Name: at most 200 characters', 'Heads: required']);
  });
});

describe('schemaErrors', () => {
  it('reports the schema issues with their paths', () => {
    expect(schemaErrors({ kind: 'kernel-scaling', variants: ['sliding'], seqLens: [8] })).toEqual(['windows: the sliding variant needs at least one window size']);
    expect(schemaErrors({ kind: 'kernel-scaling', variants: ['exact'], seqLens: [8] })).toEqual([]);
  });
});
