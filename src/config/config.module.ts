import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_CONFIG, type AppConfig } from './config.types';

/**
 * Makes the configuration loaded before Nest started available everywhere: inject APP_CONFIG for
 * the typed object, or ConfigService (e.g. `get('http.port')`) for code written that way.
 * Nothing is read from disk or env here; loadConfig() has already done that exactly once.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          // ConfigService would otherwise answer from process.env before our config, so a stray
          // variable named like a config key could shadow the validated value.
          skipProcessEnv: true,
          load: [() => config],
        }),
      ],
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG, ConfigModule],
    };
  }
}
