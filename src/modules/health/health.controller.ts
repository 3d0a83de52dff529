import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DatabaseService } from '../persistence/database.service';

/**
 * Liveness answers "is the process responsive"; readiness answers "is data flowing into the
 * database" — the distinction CoreScope's container lacked (it stayed healthy with ingest dead).
 */
@Controller('api/health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: DatabaseService,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.databaseCheck()]);
  }

  private databaseCheck() {
    const indicator = this.indicators.check('database');
    try {
      this.database.connection.prepare('SELECT 1').get();
      return indicator.up();
    } catch (err) {
      return indicator.down({ error: (err as Error).message });
    }
  }
}
