import { Module } from '@nestjs/common';
import { MqttModule } from '../mqtt/mqtt.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { SourceStatusModule } from '../source-status/source-status.module';
import { StatsFileService } from './stats-file.service';

@Module({
  imports: [MqttModule, SourceStatusModule, PersistenceModule],
  providers: [StatsFileService],
  exports: [StatsFileService],
})
export class StatsFileModule {}
