import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, packetMessage } from './support/corpus';
import { IngestorProcess, REPO_ROOT } from './support/ingestor-process';
import { freePort, MosquittoInstance } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

interface SourceStatus {
  name: string;
  broker: string;
  connected: boolean;
  lastError?: string;
}
interface JobStatus {
  name: string;
  lastRun: { result: string } | null;
}

const USER = 'user';
const PASSWORD = 's3cret-pass';
const OUTPUT_DIR = join(REPO_ROOT, 'test-output');
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
/** Markup a hostile config could put in a source name: must show as text, never become an element. */
const HOSTILE_NAME = '<img src=x id="xss" onerror="document.title=\'pwned\'"><b id="xss-b">edge</b>';

// The browser globals the page functions below use: they run in Chromium, and this project compiles without
// the DOM lib (module-scoped declarations, nothing global).
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number };
declare function getComputedStyle(element: unknown, pseudoElement?: string): { display: string; content: string };

const corpus = loadCorpus();
const digits = (text: string | null) => Number((text ?? '').replace(/[^0-9]/g, ''));

describe('e2e: live status page at / in headless Chromium (issue 13 item 7)', () => {
  // The broker wants the password: the source only connects because the URL's credentials are used.
  const broker = new MosquittoInstance({ users: { [USER]: PASSWORD } });
  let ingestor: IngestorProcess;
  let browser: Browser;
  let deadPort: number;

  beforeAll(async () => {
    await broker.start();
    deadPort = await freePort(); // nothing listens: the second source stays down with an error
    ingestor = await new IngestorProcess({
      config: {
        mqttSources: [
          { name: 'local', broker: `mqtt://${USER}:${PASSWORD}@127.0.0.1:${broker.port}`, topics: ['meshcore/#'] },
          { name: 'backup', broker: `mqtt://${USER}:${PASSWORD}@127.0.0.1:${deadPort}`, topics: ['meshcore/#'] },
        ],
      },
    }).start();
    await ingestor.waitFor(
      async () => (await ingestor.fetchJson<{ sources: SourceStatus[] }>('/api/mqtt/status')).sources.some((s) => s.name === 'local' && s.connected),
      20_000,
      'source "local" connected',
    );
    await ingestor.waitFor(() => /subscribed to/.test(ingestor.logs), 10_000, 'subscription');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
    mkdirSync(OUTPUT_DIR, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await ingestor?.stop();
    ingestor?.dispose();
    await broker.dispose();
  });

  /** A fresh page on the status page that records every API body it fetched and every console error (CSP violations land there). */
  async function openPage(options: BrowserContextOptions = DESKTOP) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const bodies: { url: string; text: string }[] = [];
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    page.on('response', (response) => {
      if (!response.url().includes('/api/')) return;
      response.text().then(
        (text) => bodies.push({ url: response.url(), text }),
        () => undefined,
      );
    });
    await page.goto(`${ingestor.url}/`);
    await page.waitForSelector('body[data-state="live"]', { timeout: 10_000 });
    return { page, bodies, consoleErrors };
  }

  const sourceRow = (page: Page, name: string) => page.locator(`#sources tbody tr[data-source="${name}"]`);

  it('loads and shows each source with its masked URL; no password in the DOM or in any JSON it fetched', async () => {
    const { page, bodies, consoleErrors } = await openPage();
    const status = await ingestor.fetchJson<{ sources: SourceStatus[] }>('/api/mqtt/status');
    const masked = Object.fromEntries(status.sources.map((s) => [s.name, s.broker]));
    expect(masked.local).toContain(`${USER}:****@127.0.0.1:${broker.port}`);

    const local = sourceRow(page, 'local');
    await expect(local.locator('td.name').textContent()).resolves.toBe('local');
    await expect(local.locator('td.broker').textContent()).resolves.toBe(masked.local);
    await expect(local.locator('td.connected').textContent()).resolves.toBe('yes');
    const backup = sourceRow(page, 'backup');
    await expect(backup.locator('td.broker').textContent()).resolves.toBe(masked.backup);
    await expect(backup.locator('td.broker').textContent()).resolves.toContain(`${USER}:****@127.0.0.1:${deadPort}`);
    await expect(backup.locator('td.connected').textContent()).resolves.toBe('no');

    // Two more refreshes, so the recorded bodies include polls made after the page had settled.
    const fetchedBefore = bodies.length;
    await expect.poll(() => bodies.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(fetchedBefore + 6);
    for (const endpoint of ['/api/mqtt/status', '/api/stats', '/api/maintenance']) {
      expect(bodies.some((b) => new URL(b.url).pathname === endpoint)).toBe(true);
    }
    for (const body of bodies) expect(body.text).not.toContain(PASSWORD);
    const html = await page.content();
    expect(html).not.toContain(PASSWORD);
    expect(html).toContain(masked.local.replace(/&/g, '&amp;'));
    // The page's own inline style and script run under the strict CSP: no violation, no script error.
    expect(consoleErrors).toEqual([]);
    await page.context().close();
  });

  it('updates after messages are published (source row and ingest counters)', async () => {
    const { page } = await openPage();
    const packets = sourceRow(page, 'local').locator('td.packets');
    const received = page.locator('[data-counter="messages_received"] .value');
    const before = digits(await packets.textContent());
    const receivedBefore = digits(await received.textContent());

    const count = 120;
    const pub = await publisher(broker.url, { username: USER, password: PASSWORD });
    await publishAll(pub, corpus.slice(0, count).map((p) => packetMessage(p)));
    await pub.endAsync();

    // Nothing is reloaded: the page's own polling brings the new values into the DOM.
    await page.waitForFunction(
      ({ min }) => Number((document.querySelector('#sources tr[data-source="local"] td.packets')?.textContent ?? '').replace(/[^0-9]/g, '')) >= min,
      { min: before + count },
      { timeout: 15_000, polling: 250 },
    );
    await page.waitForFunction(
      ({ min }) => Number((document.querySelector('[data-counter="messages_received"] .value')?.textContent ?? '').replace(/[^0-9]/g, '')) >= min,
      { min: receivedBefore + count },
      { timeout: 15_000, polling: 250 },
    );
    expect(await sourceRow(page, 'local').locator('td.age').textContent()).toMatch(/^\d+ s ago$/);
    expect(digits(await page.locator('[data-counter="obs_inserted"] .value').textContent())).toBeGreaterThan(0);
    await expect(page.locator('#queue').textContent()).resolves.toMatch(/^\d[\d,]* of 50,000 queued/);
    await page.context().close();
  });

  it('shows every maintenance job with its schedule, last run, result and next run', async () => {
    await ingestor.waitFor(
      async () => (await ingestor.fetchJson<{ jobs: JobStatus[] }>('/api/maintenance')).jobs.some((j) => j.name === 'pruneQueue' && j.lastRun),
      20_000,
      'pruneQueue ran once',
    );
    const { page } = await openPage();
    const { jobs } = await ingestor.fetchJson<{ jobs: JobStatus[] }>('/api/maintenance');
    const names = await Promise.all((await page.locator('#jobs tbody tr').all()).map((row) => row.getAttribute('data-job')));
    expect(names).toEqual(jobs.map((j) => j.name));

    const pruneQueue = page.locator('#jobs tr[data-job="pruneQueue"]');
    await expect(pruneQueue.locator('td.schedule').textContent()).resolves.toBe('every 15s, first after 0s');
    await expect(pruneQueue.locator('td.last').textContent()).resolves.toMatch(/^\d+ s ago \(took \d+(\.\d)? m?s\)$/);
    await expect(pruneQueue.locator('td.result').textContent()).resolves.toMatch(/^ok\b/);
    await expect(pruneQueue.locator('td.next').textContent()).resolves.toMatch(/^(in \d+ s|due|running now)$/);
    // Off because retention.packetDays is 0: said so instead of a schedule.
    await expect(page.locator('#jobs tr[data-job="packetRetention"] td.schedule').textContent()).resolves.toBe('off: retention.packetDays is 0 (off)');
    await expect(page.locator('#jobs tr[data-job="packetRetention"] td.next').textContent()).resolves.toBe('off');
    await page.context().close();
  });

  it('puts untrusted source names and errors into the DOM as text only', async () => {
    const context = await browser.newContext(DESKTOP);
    const page = await context.newPage();
    // The real response, with markup where a hostile config (or error text) could put it.
    await page.route('**/api/mqtt/status', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { sources: SourceStatus[] };
      body.sources[0].name = HOSTILE_NAME;
      body.sources[0].lastError = '<script>document.title="pwned"</script>';
      await route.fulfill({ response, json: body });
    });
    await page.goto(`${ingestor.url}/`);
    await page.waitForSelector('body[data-state="live"]');
    const row = page.locator('#sources tbody tr').first();
    await expect(row.locator('td.name').textContent()).resolves.toBe(HOSTILE_NAME);
    await expect(row.locator('td.error').textContent()).resolves.toBe('<script>document.title="pwned"</script>');
    expect(await page.locator('#xss, #xss-b, #sources script, #sources img').count()).toBe(0);
    expect(await page.title()).toBe('meshcore-ingestor status');
    await context.close();
  });

  it('says "unreachable" when the API cannot be fetched, keeps the last values and recovers on its own', async () => {
    const { page } = await openPage();
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await page.waitForSelector('body[data-state="unreachable"]', { timeout: 10_000 });
    await expect(page.locator('#conn').textContent()).resolves.toMatch(/^unreachable since .+ \(\d+ failed refreshes?\), retrying$/);
    await expect(page.locator('#sources-section .note').textContent()).resolves.toContain('api/mqtt/status unreachable');
    expect(await page.locator('#sources-section').getAttribute('class')).toContain('stale');
    await expect(sourceRow(page, 'local').locator('td.broker').textContent()).resolves.toContain(`${USER}:****@`);
    // Still polling: once the API answers again the page is live without a reload.
    await page.unroute('**/api/**');
    await page.waitForSelector('body[data-state="live"]', { timeout: 10_000 });
    expect(await page.locator('#sources-section').getAttribute('class')).not.toContain('stale');
    await expect(page.locator('#sources-section .note').textContent()).resolves.toBe('');
    await page.context().close();
  });

  it('is readable on a phone (stacked rows, no sideways scrolling) and writes screenshots to test-output/', async () => {
    // Some traffic so the screenshots show live numbers.
    const pub = await publisher(broker.url, { username: USER, password: PASSWORD });
    await publishAll(pub, corpus.map((p) => packetMessage(p)));
    await pub.endAsync();

    const phone = await openPage(PHONE);
    // One more refresh: the rates need two samples.
    await phone.page.waitForFunction(() => document.querySelector('[data-counter="messages_per_second"] .value')?.textContent !== '\u2026');
    const layout = await phone.page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      head: getComputedStyle(document.querySelector('#sources thead')!).display,
      row: getComputedStyle(document.querySelector('#sources tbody tr')!).display,
      label: getComputedStyle(document.querySelector('#sources tbody td.broker')!, '::before').content,
    }));
    expect(layout.innerWidth).toBe(390);
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
    expect(layout).toMatchObject({ head: 'none', row: 'grid', label: '"Broker"' });
    await phone.page.screenshot({ path: join(OUTPUT_DIR, 'status-page-phone.png'), fullPage: true });
    expect(phone.consoleErrors).toEqual([]);
    await phone.page.context().close();

    const desktop = await openPage(DESKTOP);
    await desktop.page.waitForFunction(() => document.querySelector('[data-counter="messages_per_second"] .value')?.textContent !== '\u2026');
    expect(await desktop.page.evaluate(() => getComputedStyle(document.querySelector('#sources thead')!).display)).toBe('table-header-group');
    await desktop.page.screenshot({ path: join(OUTPUT_DIR, 'status-page-desktop.png'), fullPage: true });
    await desktop.page.context().close();
  });
});
