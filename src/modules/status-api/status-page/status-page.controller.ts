import { Controller, Get, Header } from '@nestjs/common';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page.html';

/**
 * GET /: the live status page (sources, ingest counters and queue, maintenance jobs), a static document
 * that polls GET /api/mqtt/status, /api/stats and /api/maintenance. It goes with the status routes
 * (StatusApiModule): it shows nothing they do not already serve, masked the same way.
 */
@Controller()
export class StatusPageController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', STATUS_PAGE_CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Referrer-Policy', 'no-referrer')
  @Header('Cache-Control', 'no-store')
  page(): string {
    return STATUS_PAGE_HTML;
  }
}
