import { afterEach, describe, expect, it, vi } from 'vitest';
import { secretMasker } from '../masking/mask-broker-url';
import { AppLogger, levelsFrom } from './app-logger';

function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  return { text: () => chunks.join(''), restore: () => (out.mockRestore(), err.mockRestore()) };
}

describe('AppLogger', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(['text', 'json'] as const)('masks broker passwords and registered secrets (%s)', (format) => {
    secretMasker.register('pa55-w0rd-xyz');
    const logger = new AppLogger({ format, level: 'log' });
    const cap = captureOutput();
    logger.log('connecting to mqtt://alice:hunter2@broker:1883', 'Mqtt');
    logger.error('auth rejected for pa55-w0rd-xyz', 'Error: boom at tcp://bob:pw@h:1', 'Mqtt');
    cap.restore();
    const out = cap.text();
    expect(out).toContain('alice:****@broker:1883');
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('pa55-w0rd-xyz');
    expect(out).not.toContain('bob:pw@');
  });

  it.each(['text', 'json'] as const)('writes an error line without a stack while secrets are registered (%s)', (format) => {
    secretMasker.register('another-secret-77');
    const logger = new AppLogger({ format, level: 'log' });
    const cap = captureOutput();
    try {
      // Nest's Logger.error(message) reaches printStackTrace with undefined: this crashed the process once.
      expect(() => logger.error('reload failed')).not.toThrow();
    } finally {
      cap.restore();
    }
    expect(cap.text()).toContain('reload failed');
  });

  it('derives the enabled levels from the configured one', () => {
    expect(levelsFrom('warn')).toEqual(['fatal', 'error', 'warn']);
    expect(levelsFrom('verbose')).toHaveLength(6);
  });
});
