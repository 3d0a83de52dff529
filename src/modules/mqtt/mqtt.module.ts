import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module';
import { SourceStatusModule } from '../source-status/source-status.module';
import { MqttSourcePool } from './mqtt-source-pool.service';

@Module({
  imports: [IngestModule, SourceStatusModule],
  providers: [MqttSourcePool],
  exports: [MqttSourcePool],
})
export class MqttModule {}
