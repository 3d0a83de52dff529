import { Module } from '@nestjs/common';
import { MaintenanceModule } from '../maintenance/maintenance.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { SourceStatusModule } from '../source-status/source-status.module';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';

@Module({
  imports: [SourceStatusModule, MaintenanceModule, PersistenceModule],
  providers: [MetricsRegistry],
  controllers: [MetricsController],
})
export class MetricsModule {}
