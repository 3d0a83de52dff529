/**
 * Parses JSON text and, on a syntax error, reports where it is as "line L column C".
 *
 * JSON.parse does the parsing; its error messages vary between Node versions, sometimes carry no
 * position and sometimes quote a multi-line snippet of the input. When it fails, a small
 * grammar-only scanner walks the text again to find the first offending character so the
 * operator gets one stable line pointing at the spot to fix.
 */

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';

  constructor(
    /** What is wrong, without the position. */
    readonly problem: string,
    /** 1-based line and column (in UTF-16 code units, like editors count them). */
    readonly line: number,
    readonly column: number,
  ) {
    super(`${problem} (line ${line} column ${column})`);
  }
}

export function parseJsonWithPosition(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (parseError) {
    const located = locateJsonSyntaxError(text);
    if (located) throw located;
    // The scanner accepted what JSON.parse rejected (or ran out of stack): fall back to the
    // engine's message, flattened to one line.
    const message = parseError instanceof Error ? parseError.message : String(parseError);
    throw new Error(message.replace(/\s+/g, ' ').trim());
  }
}

/** Returns the first syntax error in `text`, or undefined when it is valid JSON. */
export function locateJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const scanner = new JsonGrammarScanner(text);
  try {
    scanner.scanDocument();
    return undefined;
  } catch (error) {
    if (error instanceof ScanFailure) {
      const { line, column } = lineAndColumn(text, error.offset);
      return new JsonSyntaxError(error.problem, line, column);
    }
    if (error instanceof RangeError) return undefined; // absurd nesting depth
    throw error;
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class ScanFailure {
  constructor(
    readonly problem: string,
    readonly offset: number,
  ) {}
}

function describeCharacter(char: string): string {
  return char.charCodeAt(0) < 0x20 || char === '\u007f' ? JSON.stringify(char) : `'${char}'`;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SIMPLE_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** Checks the RFC 8259 grammar only; builds no values. */
class JsonGrammarScanner {
  private offset = 0;

  constructor(private readonly text: string) {}

  scanDocument(): void {
    this.skipWhitespace();
    this.scanValue();
    this.skipWhitespace();
    if (this.offset < this.text.length) this.fail(`Unexpected ${describeCharacter(this.peek())} after the end of the JSON value`);
  }

  private peek(): string {
    return this.text[this.offset] ?? '';
  }

  private fail(problem: string, at = this.offset): never {
    throw new ScanFailure(problem, at);
  }

  private failUnexpected(expected: string): never {
    if (this.offset >= this.text.length) this.fail(`Unexpected end of input, expected ${expected}`);
    this.fail(`Unexpected token ${describeCharacter(this.peek())}, expected ${expected}`);
  }

  private skipWhitespace(): void {
    while (WHITESPACE.has(this.peek())) this.offset++;
  }

  private scanValue(): void {
    const char = this.peek();
    if (char === '{') return this.scanObject();
    if (char === '[') return this.scanArray();
    if (char === '"') return this.scanString();
    if (char === '-' || (char >= '0' && char <= '9')) return this.scanNumber();
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.offset)) {
        this.offset += literal.length;
        return;
      }
    }
    this.failUnexpected('a value');
  }

  private scanObject(): void {
    this.offset++; // {
    this.skipWhitespace();
    if (this.peek() === '}') {
      this.offset++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.peek() !== '"') this.failUnexpected('a property name in double quotes');
      this.scanString();
      this.skipWhitespace();
      if (this.peek() !== ':') this.failUnexpected("':' after the property name");
      this.offset++;
      this.skipWhitespace();
      this.scanValue();
      this.skipWhitespace();
      const separator = this.peek();
      if (separator === '}') {
        this.offset++;
        return;
      }
      if (separator !== ',') this.failUnexpected("',' or '}' after a property value");
      this.offset++;
    }
  }

  private scanArray(): void {
    this.offset++; // [
    this.skipWhitespace();
    if (this.peek() === ']') {
      this.offset++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      this.scanValue();
      this.skipWhitespace();
      const separator = this.peek();
      if (separator === ']') {
        this.offset++;
        return;
      }
      if (separator !== ',') this.failUnexpected("',' or ']' after an array element");
      this.offset++;
    }
  }

  private scanString(): void {
    const start = this.offset;
    this.offset++; // opening quote
    for (;;) {
      if (this.offset >= this.text.length) this.fail('Unterminated string', start);
      const char = this.peek();
      if (char === '"') {
        this.offset++;
        return;
      }
      if (char === '\\') {
        const escape = this.text[this.offset + 1] ?? '';
        if (SIMPLE_ESCAPES.has(escape)) {
          this.offset += 2;
        } else if (escape === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.offset + 2, this.offset + 6))) {
          this.offset += 6;
        } else {
          this.fail('Bad escape sequence in string');
        }
        continue;
      }
      if (char.charCodeAt(0) < 0x20) this.fail(`Bad control character ${describeCharacter(char)} in string`);
      this.offset++;
    }
  }

  private scanNumber(): void {
    const pattern = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    pattern.lastIndex = this.offset;
    const match = pattern.exec(this.text);
    if (!match) this.fail('Invalid number');
    this.offset += match[0].length;
    // "01" or "1." parse as a number followed by junk; name the real problem.
    const next = this.peek();
    if ((next >= '0' && next <= '9') || next === '.' || next === 'e' || next === 'E') this.fail('Invalid number');
  }
}
