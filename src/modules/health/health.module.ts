import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { IngestModule } from '../ingest/ingest.module';
import { MqttModule } from '../mqtt/mqtt.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), PersistenceModule, IngestModule, MqttModule],
  controllers: [HealthController],
})
export class HealthModule {}
