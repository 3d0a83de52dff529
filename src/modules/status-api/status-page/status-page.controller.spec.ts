import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import type { INestApplication } from '@nestjs/common';
import { MODULE_METADATA } from '@nestjs/common/constants';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { StatusApiModule } from '../status-api.module';
import { StatusPageController } from './status-page.controller';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML, STATUS_PAGE_SCRIPT, STATUS_PAGE_STYLE } from './status-page.html';

const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The CSP header as directive → sources. */
function directives(csp: string): Record<string, string[]> {
  return Object.fromEntries(csp.split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));
}

describe('GET / (status page)', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function get() {
    const moduleRef = await Test.createTestingModule({ controllers: [StatusPageController] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return request(app.getHttpServer()).get('/').expect(200);
  }

  it('serves the page as HTML with a strict CSP, nosniff and no caching', async () => {
    const res = await get();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(STATUS_PAGE_CSP);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.text).toBe(STATUS_PAGE_HTML);
  });

  it('allows exactly its own inline style and script (by hash) and same-origin fetches, nothing else', async () => {
    const res = await get();
    const csp = directives(res.headers['content-security-policy']);
    expect(csp['default-src']).toEqual(["'none'"]);
    expect(csp['connect-src']).toEqual(["'self'"]);
    expect(csp['base-uri']).toEqual(["'none'"]);
    expect(csp['form-action']).toEqual(["'none'"]);
    expect(csp['frame-ancestors']).toEqual(["'none'"]);
    // The hashes are of the bytes the browser sees between the tags, taken from the served document.
    const scripts = [...res.text.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    const styles = [...res.text.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
    expect(scripts).toEqual([STATUS_PAGE_SCRIPT]);
    expect(styles).toEqual([STATUS_PAGE_STYLE]);
    expect(csp['script-src']).toEqual([hashOf(scripts[0])]);
    expect(csp['style-src']).toEqual([hashOf(styles[0])]);
    for (const sources of Object.values(csp)) expect(sources).not.toContain("'unsafe-inline'");
  });

  it('is self-contained and phone-ready: no external assets, relative API links, a viewport', () => {
    expect(STATUS_PAGE_HTML).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(STATUS_PAGE_HTML).not.toMatch(/\b(?:https?:)?\/\/[a-z0-9]/i);
    expect(STATUS_PAGE_HTML).not.toMatch(/<(?:script|img|iframe|object|embed|link)\b[^>]*\bsrc=/i);
    expect([...STATUS_PAGE_HTML.matchAll(/href="([^"]*)"/g)].map((m) => m[1])).toEqual(['data:,', 'api/mqtt/status', 'api/stats', 'api/maintenance']);
    // Relative URLs: the page keeps working behind a reverse proxy's path prefix.
    expect(STATUS_PAGE_SCRIPT).toContain("status: 'api/mqtt/status', stats: 'api/stats', maintenance: 'api/maintenance'");
    // Narrow screens stack the tables into cards.
    expect(STATUS_PAGE_STYLE).toMatch(/@media \(max-width: 640px\)[\s\S]*table\.stack tr \{ display: grid;/);
  });

  it('has a script that parses and never turns data into HTML', () => {
    expect(() => new Script(STATUS_PAGE_SCRIPT)).not.toThrow();
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'Function(', 'setAttribute', 'srcdoc', 'javascript:']) {
      expect(STATUS_PAGE_SCRIPT).not.toContain(sink);
    }
    expect(STATUS_PAGE_SCRIPT).toContain('node.textContent = String(text)');
    expect(STATUS_PAGE_SCRIPT).not.toMatch(/<\/script/i);
    // Keeps polling whatever happened (a failed fetch marks the sections stale and says "unreachable").
    expect(STATUS_PAGE_SCRIPT).toMatch(/\.finally\(function \(\) \{\s*setTimeout\(poll, REFRESH_MS\);/);
    expect(STATUS_PAGE_SCRIPT).toContain("'unreachable since '");
  });

  it('is registered with the status routes', () => {
    expect(Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, StatusApiModule)).toContain(StatusPageController);
  });
});
