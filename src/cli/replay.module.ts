import { DynamicModule, Module } from '@nestjs/common';
import { AppConfigModule } from '../config/config.module';
import { AppConfig } from '../config/config.types';
import { DecoderModule } from '../modules/decoder/decoder.module';
import { IngestModule } from '../modules/ingest/ingest.module';
import { PersistenceModule } from '../modules/persistence/persistence.module';
import { StatsModule } from '../modules/stats/stats.module';

/**
 * The write path without HTTP or MQTT: what `replay` needs. A file is stored as fast as it can be, so
 * unless `ingest.workerThread` says otherwise the preparation runs in the worker thread (serve's default
 * is one thread).
 */
@Module({})
export class ReplayModule {
  static forRoot(config: AppConfig): DynamicModule {
    const replayConfig: AppConfig = { ...config, ingest: { ...config.ingest, workerThread: config.ingest.workerThread ?? true } };
    return {
      module: ReplayModule,
      imports: [AppConfigModule.forRoot(replayConfig), StatsModule, DecoderModule, PersistenceModule, IngestModule],
    };
  }
}
