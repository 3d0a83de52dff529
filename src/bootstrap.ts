import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { AppLogger } from './common/logging/app-logger';
import { AppConfig } from './config/config.types';
import { MqttIngestTransport } from './modules/mqtt/mqtt-ingest.transport';
import { ConfigReloadService } from './modules/config-reload/config-reload.service';
import { MqttSourcePool } from './modules/mqtt/mqtt-source-pool.service';

export interface CreateAppOptions {
  /** Override the logger (tests capture output). */
  logger?: AppLogger | false;
}

/** Builds the Nest application (HTTP + the MQTT transport) for a validated config without listening yet. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const logger = options.logger ?? new AppLogger(config.log);
  const app = await NestFactory.create(AppModule.forRoot(config), { logger, abortOnError: false });
  app.connectMicroservice({ strategy: new MqttIngestTransport(app.get(MqttSourcePool)) }, { inheritAppConfig: true });
  return app;
}

/**
 * Starts the service: everything `serve` and `npm start` do. Resolves once HTTP listens; MQTT
 * sources connect in the background (a broker that is down never blocks start-up).
 */
export async function startService(
  config: AppConfig,
  notices: readonly string[] = [],
  options: CreateAppOptions = {},
  warnings: readonly string[] = [],
): Promise<INestApplication> {
  const logger = options.logger ?? new AppLogger(config.log);
  if (logger) Logger.overrideLogger(logger);
  const log = new Logger('Bootstrap');
  for (const notice of notices) log.log(notice);
  for (const warning of warnings) log.warn(warning);
  // SIGHUP's default action ends the process: until the reload handler is in place (start-up can take seconds
  // on a big database), one that arrives is remembered and applied once the service is up.
  let hupDuringStart = false;
  const onEarlyHup = () => {
    hupDuringStart = true;
    log.log('SIGHUP during start-up: the config is re-read once the service is up');
  };
  process.on('SIGHUP', onEarlyHup);
  const app = await createApp(config, { logger });
  await app.init();
  await app.startAllMicroservices();
  if (config.http.enabled) {
    await app.listen(config.http.port, config.http.host);
    log.log(`HTTP listening on ${config.http.host}:${config.http.port}${config.http.statusApi ? '' : ' (status routes off: http.statusApi is false)'}`);
  } else {
    log.log('HTTP server off (http.enabled is false): no health, metrics or status routes; the stats file and the log remain');
  }
  exitCleanlyOnSignals(app, log);
  const reload = reloadOnSighup(app, log);
  process.off('SIGHUP', onEarlyHup);
  if (hupDuringStart) reload();
  return app;
}

/** SIGHUP re-reads the config file; what can change live is applied, the rest is named (ConfigReloadService). */
function reloadOnSighup(app: INestApplication, log: Logger): () => void {
  const reloader = app.get(ConfigReloadService);
  const reload = () => {
    try {
      reloader.reload('SIGHUP');
    } catch (error) {
      // A reload must never take the service down.
      log.error(`SIGHUP reload failed: ${(error as Error).message}`);
    }
  };
  process.on('SIGHUP', reload);
  return reload;
}

/**
 * SIGTERM/SIGINT: stop intake, drain the writer, checkpoint and close the database (the Nest
 * shutdown hooks), then exit 0 like the reference. A second signal while shutting down exits 1
 * at once.
 */
function exitCleanlyOnSignals(app: INestApplication, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`${signal} again: exiting without finishing the shutdown`);
      process.exit(1);
    }
    stopping = true;
    log.log(`Shutting down... (${signal})`);
    app
      .close()
      .then(() => {
        log.log('Done.');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error(`shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
