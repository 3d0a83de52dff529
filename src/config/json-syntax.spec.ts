import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, locateJsonSyntaxError, parseJsonWithPosition } from './json-syntax';

function acceptedByJsonParse(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('locateJsonSyntaxError', () => {
  it.each([
    ['{"a": 1,\n "b": [1, 2,]\n}', "Unexpected token ']', expected a value", 2, 13],
    ['{"a" 1}', "Unexpected token '1', expected ':' after the property name", 1, 6],
    ['{"a": 1 "b": 2}', "Unexpected token '\"', expected ',' or '}' after a property value", 1, 9],
    ['[1 2]', "Unexpected token '2', expected ',' or ']' after an array element", 1, 4],
    ['{"a": tru}', "Unexpected token 't', expected a value", 1, 7],
    ['{"a": "x\\q"}', 'Bad escape sequence in string', 1, 9],
    ['{"a": "\\u12G4"}', 'Bad escape sequence in string', 1, 8],
    ['{"a": "tab\there"}', 'Bad control character "\\t" in string', 1, 11],
    ['{"a": -}', 'Invalid number', 1, 7],
    ['{"a": 1.}', 'Invalid number', 1, 8],
    ['{"a": .5}', "Unexpected token '.', expected a value", 1, 7],
    ['{"a": 1}\r\n\r\nx', "Unexpected 'x' after the end of the JSON value", 3, 1],
    ['   ', 'Unexpected end of input, expected a value', 1, 4],
    ['{"a": [', 'Unexpected end of input, expected a value', 1, 8],
  ])('%j → %s at %d:%d', (text, problem, line, column) => {
    const error = locateJsonSyntaxError(text);
    expect(error).toBeInstanceOf(JsonSyntaxError);
    expect(error).toMatchObject({ problem, line, column });
    expect(error?.message).toBe(`${problem} (line ${line} column ${column})`);
    expect(acceptedByJsonParse(text)).toBe(false);
  });

  it('accepts what JSON.parse accepts', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(locateJsonSyntaxError(text)).toBeUndefined();
      }),
    );
  });

  it('rejects exactly what JSON.parse rejects, on near-JSON noise', () => {
    const nearJson = fc
      .array(fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', 'a', 'u', '0', '1', '-', '.', 'e', '+', ' ', '\n', 'true', 'null', '"k"'), {
        maxLength: 20,
      })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(nearJson, (text) => {
        expect(locateJsonSyntaxError(text) === undefined).toBe(acceptedByJsonParse(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseJsonWithPosition', () => {
  it('returns the parsed value', () => {
    expect(parseJsonWithPosition('{"a": [1, "x", null]}')).toEqual({ a: [1, 'x', null] });
  });

  it('throws the located error on invalid input', () => {
    expect(() => parseJsonWithPosition('{\n  "a": }')).toThrow('Unexpected token \'}\', expected a value (line 2 column 8)');
  });
});
