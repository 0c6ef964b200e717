import { describe, expect, it } from 'vitest';
import { parseCsvRows, parseCsvTexts, parseDataFile, parseJsonlTexts, parseTypedTexts, TextParseError } from './dataTexts';

describe('parseTypedTexts', () => {
  it('reads one text per line, skipping empty lines', () => {
    expect(parseTypedTexts('hello there\n\n  second one  \r\nthird')).toEqual([{ text: 'hello there' }, { text: 'second one' }, { text: 'third' }]);
  });
  it('reads "label<TAB>text" lines, by index or known class name', () => {
    expect(parseTypedTexts('1\twin money now\n0\tmeeting at 3\nplain', ['ham', 'spam'])).toEqual([
      { text: 'win money now', label: 1 },
      { text: 'meeting at 3', label: 0 },
      { text: 'plain' },
    ]);
    expect(parseTypedTexts('spam\tfree offer', ['ham', 'spam'])).toEqual([{ text: 'free offer', label: 1 }]);
  });
  it('keeps a tab inside a text whose first field is not a label', () => {
    expect(parseTypedTexts('a\tb')).toEqual([{ text: 'a\tb' }]);
  });
  it('refuses out-of-range labels and empty input', () => {
    expect(() => parseTypedTexts('5\ttext', ['ham', 'spam'])).toThrow(/line 1: label 5 is out of range/);
    expect(() => parseTypedTexts('1\t   ')).toThrow(/line 1: empty text/);
    expect(() => parseTypedTexts('\n \n')).toThrow(/no examples/);
  });
});

describe('parseCsvRows', () => {
  it('splits plain rows (CRLF, LF, CR) and skips blank lines', () => {
    expect(parseCsvRows('a,b\r\n1,2\n\n3,4\r5,6\n')).toEqual([['a', 'b'], ['1', '2'], ['3', '4'], ['5', '6']]);
  });
  it('handles quoted fields with commas, doubled quotes and newlines', () => {
    expect(parseCsvRows('text,label\n"hello, world",1\n"she said ""hi""",0\n"two\nlines",1')).toEqual([
      ['text', 'label'],
      ['hello, world', '1'],
      ['she said "hi"', '0'],
      ['two\nlines', '1'],
    ]);
  });
  it('keeps empty fields and strips a BOM', () => {
    expect(parseCsvRows('\uFEFFa,,c\n,"",x')).toEqual([['a', '', 'c'], ['', '', 'x']]);
  });
  it('refuses malformed quoting', () => {
    expect(() => parseCsvRows('"open,1\n')).toThrow(TextParseError);
    expect(() => parseCsvRows('a"b,1')).toThrow(/quote inside an unquoted field/);
    expect(() => parseCsvRows('"a"b,1')).toThrow(/after a closing quote/);
  });
});

describe('parseCsvTexts', () => {
  it('finds the text and label columns by header, in any order and case', () => {
    expect(parseCsvTexts('id,Label,TEXT\n7,1,"buy, now"\n8,,hello\n', 'd.csv', ['ham', 'spam'])).toEqual([{ text: 'buy, now', label: 1 }, { text: 'hello' }]);
    expect(parseCsvTexts('label,text\nspam,x\n', 'd.csv', ['ham', 'spam'])).toEqual([{ text: 'x', label: 1 }]);
  });
  it('says what is wrong with the file', () => {
    expect(() => parseCsvTexts('body,label\nx,1\n', 'd.csv')).toThrow(/no 'text' column \(found: body, label\)/);
    expect(() => parseCsvTexts('text,label\nx\n', 'd.csv')).toThrow(/row 2: 1 field, the header has 2/);
    expect(() => parseCsvTexts('text,label\nx,eggs\n', 'd.csv', ['ham', 'spam'])).toThrow(/'eggs' is not a class of the model/);
    expect(() => parseCsvTexts('text\n', 'd.csv')).toThrow(/no examples/);
    expect(() => parseCsvTexts('', 'd.csv')).toThrow(/empty file/);
  });
});

describe('parseJsonlTexts', () => {
  it('reads {"text","label"?} objects', () => {
    expect(parseJsonlTexts('{"text":"a","label":1}\n\n{"text":"b"}\r\n{"text":"c","label":"ham","id":3}', 'd.jsonl', ['ham', 'spam'])).toEqual([
      { text: 'a', label: 1 },
      { text: 'b' },
      { text: 'c', label: 0 },
    ]);
  });
  it('names the bad line', () => {
    expect(() => parseJsonlTexts('{"text":"a"}\n{nope}', 'd.jsonl')).toThrow(/d.jsonl: line 2: not valid JSON/);
    expect(() => parseJsonlTexts('{"label":1}', 'd.jsonl')).toThrow(/"text" must be a string/);
    expect(() => parseJsonlTexts('[1]', 'd.jsonl')).toThrow(/expected an object/);
    expect(() => parseJsonlTexts('{"text":"a","label":-1}', 'd.jsonl')).toThrow(/not a class index/);
  });
});

describe('parseDataFile', () => {
  it('picks the format by extension, else by content', () => {
    expect(parseDataFile('x.CSV', 'text\nhi')).toEqual([{ text: 'hi' }]);
    expect(parseDataFile('x.tsv', 'label\ttext\n1\thi, there')).toEqual([{ text: 'hi, there', label: 1 }]);
    expect(parseDataFile('x.ndjson', '{"text":"hi"}')).toEqual([{ text: 'hi' }]);
    expect(parseDataFile('data.txt', ' {"text":"hi"}')).toEqual([{ text: 'hi' }]);
    expect(parseDataFile('data', 'text\nhi')).toEqual([{ text: 'hi' }]);
  });
});
