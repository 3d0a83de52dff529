import { Controller, Get } from '@nestjs/common';
import { IngestStatsService } from './ingest-stats.service';

/** GET /api/stats: every ingest counter, the drops per filter, and live gauges. */
@Controller('api/stats')
export class StatsController {
  constructor(private readonly stats: IngestStatsService) {}

  @Get()
  get() {
    return this.stats.snapshot();
  }
}
