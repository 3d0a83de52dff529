import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { AppLogger } from './common/logging/app-logger';
import { AppConfig } from './config/config.types';

export interface CreateAppOptions {
  /** Override the logger (tests capture output). */
  logger?: AppLogger;
}

/** Builds the Nest application (HTTP + MQTT intake) for a validated config without listening yet. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const logger = options.logger ?? new AppLogger(config.log);
  const app = await NestFactory.create(AppModule.forRoot(config), { logger, abortOnError: false });
  app.enableShutdownHooks();
  return app;
}

/** Starts the service: everything `serve` and `npm start` do. Resolves once HTTP listens. */
export async function startService(
  config: AppConfig,
  notices: readonly string[] = [],
  options: CreateAppOptions = {},
): Promise<INestApplication> {
  const logger = options.logger ?? new AppLogger(config.log);
  const log = new Logger('Bootstrap');
  Logger.overrideLogger(logger);
  for (const notice of notices) log.log(notice);
  const app = await createApp(config, { logger });
  await app.listen(config.http.port, config.http.host);
  log.log(`HTTP listening on ${config.http.host}:${config.http.port}`);
  return app;
}
