import { Module } from '@nestjs/common';
import { SourceStatusRegistry } from './source-status.registry';

/** Per-source MQTT status (ingestor-spec §6.2); served by the status API module (GET /api/mqtt/status). */
@Module({
  providers: [SourceStatusRegistry],
  exports: [SourceStatusRegistry],
})
export class SourceStatusModule {}
