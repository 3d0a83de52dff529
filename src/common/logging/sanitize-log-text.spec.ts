import { describe, expect, it } from 'vitest';
import { sanitizeLogText, truncateId } from './sanitize-log-text';

describe('sanitizeLogText (sanitize_log_test.go)', () => {
  it('replaces CR, LF, other control characters and DEL with ?', () => {
    expect(sanitizeLogText('evil\r\nINFO forged\u0000\u007f')).toBe('evil??INFO forged??');
  });
  it('keeps legitimate text, including multi-byte characters', () => {
    expect(sanitizeLogText('Node 🚀 café')).toBe('Node 🚀 café');
  });
  it('truncates ids to 8 characters', () => {
    expect(truncateId('AABBCCDDEEFF')).toBe('AABBCCDD');
    expect(truncateId('abc')).toBe('abc');
  });
});
