import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AppConfigModule } from './config/config.module';
import { AppConfig } from './config/config.types';
import { DecoderModule } from './modules/decoder/decoder.module';
import { HealthModule } from './modules/health/health.module';
import { PersistenceModule } from './modules/persistence/persistence.module';
import { SourceStatusModule } from './modules/source-status/source-status.module';

/** The whole service; the config is loaded and validated before Nest starts and passed in here. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        ScheduleModule.forRoot(),
        DecoderModule,
        PersistenceModule,
        SourceStatusModule,
        HealthModule,
      ],
    };
  }
}
