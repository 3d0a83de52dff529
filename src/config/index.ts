export { AppConfigModule } from './config.module';
export { ConfigError } from './config.errors';
export { CONFIG_DEFAULTS } from './config.defaults';
export { loadConfig, mapBrokerScheme, type LoadConfigOptions, type LoadedConfig } from './load-config';
export * from './config.types';
