import { Module } from '@nestjs/common';
import { SourceStatusModule } from '../source-status/source-status.module';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';

@Module({
  imports: [SourceStatusModule],
  providers: [MetricsRegistry],
  controllers: [MetricsController],
})
export class MetricsModule {}
