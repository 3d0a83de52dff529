import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AppConfigModule } from './config/config.module';
import { AppConfig } from './config/config.types';
import { EmbeddedBrokerModule } from './modules/embedded-broker/embedded-broker.module';
import { DecoderModule } from './modules/decoder/decoder.module';
import { HealthModule } from './modules/health/health.module';
import { IngestModule } from './modules/ingest/ingest.module';
import { MetricsModule } from './modules/metrics/metrics.module';
import { MqttModule } from './modules/mqtt/mqtt.module';
import { PersistenceModule } from './modules/persistence/persistence.module';
import { SourceStatusModule } from './modules/source-status/source-status.module';
import { StatusApiModule } from './modules/status-api/status-api.module';
import { ConfigReloadModule } from './modules/config-reload/config-reload.module';
import { StartupModule } from './modules/startup/startup.module';
import { StatsFileModule } from './modules/stats-file/stats-file.module';
import { StatsModule } from './modules/stats/stats.module';

/** The whole service; the config is loaded and validated before Nest starts and passed in here. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        ScheduleModule.forRoot(),
        StatsModule,
        DecoderModule,
        PersistenceModule,
        IngestModule,
        SourceStatusModule,
        // Before the MQTT sources: it listens in its module init, before the transport connects them.
        EmbeddedBrokerModule,
        MqttModule,
        StartupModule,
        StatsFileModule,
        HealthModule,
        MetricsModule,
        ConfigReloadModule,
        // The status routes and page are optional (http.statusApi); health and metrics stay.
        ...(config.http.statusApi ? [StatusApiModule] : []),
      ],
    };
  }
}
