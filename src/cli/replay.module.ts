import { DynamicModule, Module } from '@nestjs/common';
import { AppConfigModule } from '../config/config.module';
import { AppConfig } from '../config/config.types';
import { DecoderModule } from '../modules/decoder/decoder.module';
import { IngestModule } from '../modules/ingest/ingest.module';
import { PersistenceModule } from '../modules/persistence/persistence.module';
import { StatsModule } from '../modules/stats/stats.module';

/** The write path without HTTP or MQTT: what `replay` needs. */
@Module({})
export class ReplayModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ReplayModule,
      imports: [AppConfigModule.forRoot(config), StatsModule, DecoderModule, PersistenceModule, IngestModule],
    };
  }
}
