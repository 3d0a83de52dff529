import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { maskDatabaseUrl, secretMasker } from '../../common/masking/mask-broker-url';
import { IngestWriterService } from '../ingest/ingest-writer.service';
import { MqttSourcePool } from '../mqtt/mqtt-source-pool.service';
import { DatabaseService } from '../persistence/database.service';

/**
 * Liveness answers "is the process responsive"; readiness answers "can data flow into the
 * database": database open, write path running, at least one MQTT source connected — the
 * distinction CoreScope's container lacked (it stayed healthy with ingest dead).
 */
@Controller('api/health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: DatabaseService,
    private readonly writer: IngestWriterService,
    private readonly mqtt: MqttSourcePool,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.databaseCheck(), () => this.writePathCheck(), () => this.mqttCheck()]);
  }

  private async databaseCheck() {
    const indicator = this.indicators.check('database');
    try {
      await this.database.ping();
      return indicator.up();
    } catch (err) {
      // Served to anyone who can reach the port: masked like a log line (a driver may repeat a URL or password).
      return indicator.down({ error: secretMasker.mask(maskDatabaseUrl((err as Error).message)) });
    }
  }

  private writePathCheck() {
    const indicator = this.indicators.check('writePath');
    const details = { pending: this.writer.buffer.pending, capacity: this.writer.buffer.capacity };
    return this.writer.running ? indicator.up(details) : indicator.down({ ...details, reason: 'start-up maintenance still running' });
  }

  private mqttCheck() {
    const indicator = this.indicators.check('mqtt');
    const details = { connected: this.mqtt.connectedCount(), sources: this.mqtt.sourceCount };
    return details.connected > 0 ? indicator.up(details) : indicator.down({ ...details, reason: 'no MQTT source connected' });
  }
}
