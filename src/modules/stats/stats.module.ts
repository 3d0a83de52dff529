import { Global, Module } from '@nestjs/common';
import { IngestStatsService } from './ingest-stats.service';
import { StatsController } from './stats.controller';

@Global()
@Module({ providers: [IngestStatsService], controllers: [StatsController], exports: [IngestStatsService] })
export class StatsModule {}
