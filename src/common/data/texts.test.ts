import { describe, expect, it } from 'vitest';
import { parseTexts, parseTextsCsv, parseTextsJsonl } from './texts';

const labels = ['ham', 'spam'];

describe('labelled text data sets', () => {
  it('reads JSONL with numeric and named labels, ids and blank lines', () => {
    const got = parseTextsJsonl('{"id":"a","text":"hello","label":0}\n\n{"text":"win money","label":"SPAM"}\n{"text":"no label"}\n', 'd.jsonl', labels);
    expect(got).toEqual([
      { id: 'a', text: 'hello', label: 0 },
      { id: '1', text: 'win money', label: 1 },
      { id: '2', text: 'no label' },
    ]);
  });
  it('names the line of a bad JSONL row', () => {
    expect(() => parseTextsJsonl('{"text":"ok"}\n{"text":', 'd.jsonl')).toThrow(/d\.jsonl:2: not valid JSON/);
    expect(() => parseTextsJsonl('{"label":1}', 'd.jsonl')).toThrow(/d\.jsonl:1: text/);
    expect(() => parseTextsJsonl('{"text":"x","label":2}', 'd.jsonl', labels)).toThrow(/label 2 is out of range: the model has 2 classes/);
    expect(() => parseTextsJsonl('{"text":"x","label":"eggs"}', 'd.jsonl', labels)).toThrow(/label 'eggs' is not a class of the model \(ham, spam\)/);
    expect(() => parseTextsJsonl('\n\n', 'd.jsonl')).toThrow(/no examples/);
  });
  it('reads CSV with quoting, embedded commas, quotes and newlines', () => {
    const csv = 'id,text,label\r\n7,"Hello, ""world""\nsecond line",ham\n8,plain,1\n';
    expect(parseTextsCsv(csv, 'd.csv', labels)).toEqual([
      { id: '7', text: 'Hello, "world"\nsecond line', label: 0 },
      { id: '8', text: 'plain', label: 1 },
    ]);
    expect(parseTexts('text\nonly text\n', 'x.CSV')).toEqual([{ id: '0', text: 'only text' }]);
  });
  it('refuses CSV without a text column, ragged rows and unknown formats', () => {
    expect(() => parseTextsCsv('body,label\nx,1\n', 'd.csv')).toThrow(/no 'text' column \(found: body, label\)/);
    expect(() => parseTextsCsv('text,label\nx,1,extra\n', 'd.csv')).toThrow(/row 2: 3 fields, the header has 2/);
    expect(() => parseTextsCsv('text\n"unclosed\n', 'd.csv')).toThrow(/not valid CSV/);
    expect(() => parseTexts('x', 'data.txt')).toThrow(/unknown data format/);
  });
});
