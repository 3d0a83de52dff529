import { Global, Module } from '@nestjs/common';
import { IngestStatsService } from './ingest-stats.service';

@Global()
@Module({ providers: [IngestStatsService], exports: [IngestStatsService] })
export class StatsModule {}
