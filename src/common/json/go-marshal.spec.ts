import { describe, expect, it } from 'vitest';
import { goFormatValue, goMarshal } from './go-marshal';

describe('goMarshal', () => {
  it('sorts map keys and escapes HTML characters like Go', () => {
    expect(goMarshal({ type: 'CHAN', text: 'a<b>&c\u2028', channel: 'ch1', sender: '' })).toBe(
      '{"channel":"ch1","sender":"","text":"a\\u003cb\\u003e\\u0026c\\u2028","type":"CHAN"}',
    );
  });
  it('keeps nested order sorted and numbers in Go float form', () => {
    expect(goMarshal({ b: { z: 1, a: [2.5, 1e21] }, a: true })).toBe('{"a":true,"b":{"a":[2.5,1e+21],"z":1}}');
  });
  it('formats %v values', () => {
    expect(goFormatValue(3)).toBe('3');
    expect(goFormatValue('7')).toBe('7');
    expect(goFormatValue(null)).toBe('<nil>');
  });
});
