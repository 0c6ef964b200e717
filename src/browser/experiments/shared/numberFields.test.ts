import { describe, expect, it } from 'vitest';
import { optionalList, parseNumberField, parseNumberList, requiredNumberField, withDefined } from './numberFields';

describe('parseNumberList', () => {
  it('reads comma/space lists, drops duplicates and reports bad entries', () => {
    const errors: string[] = [];
    expect(parseNumberList('4, 16 64,,4', 'W', { integer: true, min: 0 }, errors)).toEqual([4, 16, 64]);
    expect(errors).toEqual([]);
    expect(parseNumberList('4, x, 2.5, -1', 'W', { integer: true, min: 0 }, errors)).toEqual([4]);
    expect(errors).toEqual(["W: 'x' is not a number", 'W: 2.5 is not a whole number', 'W: -1 is below the minimum 0']);
  });
});

describe('number fields', () => {
  it('reads one number within its rule, empty as undefined', () => {
    const errors: string[] = [];
    expect(parseNumberField(' 12 ', 'N', { integer: true, max: 12 }, errors)).toBe(12);
    expect(parseNumberField('', 'N', {}, errors)).toBeUndefined();
    expect(parseNumberField('13', 'N', { max: 12 }, errors)).toBeUndefined();
    expect(errors).toEqual(['N: 13 is above the maximum 12']);
  });

  it('asks for a required number', () => {
    const errors: string[] = [];
    expect(requiredNumberField(' ', 'Heads', { integer: true }, errors)).toBeUndefined();
    expect(requiredNumberField('x', 'Heads', { integer: true }, errors)).toBeUndefined();
    expect(errors).toEqual(['Heads: required', "Heads: 'x' is not a number"]);
  });

  it('leaves empty lists and undefined fields out', () => {
    expect(optionalList([])).toBeUndefined();
    expect(optionalList([1])).toEqual([1]);
    expect(withDefined({ a: 1, b: undefined, c: 0 })).toEqual({ a: 1, c: 0 });
  });
});
