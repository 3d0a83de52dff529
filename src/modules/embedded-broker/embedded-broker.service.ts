import { createServer, type Server } from 'node:net';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Aedes, AuthenticateError } from 'aedes';
import { RateLimitedLog } from '../../common/logging/rate-limited-log';
import { sanitizeLogText } from '../../common/logging/sanitize-log-text';
import { APP_CONFIG, AppConfig } from '../../config/config.types';
import { CONFIG_DEFAULTS } from '../../config/config.defaults';
import { EMBEDDED_INGEST_CREDENTIALS } from '../../config/embedded-broker-credentials';
import { IngestStatsService } from '../stats/ingest-stats.service';
import { checkBrokerLogin } from './embedded-broker-login';

/** MQTT CONNACK return code 4 (3.1.1): bad user name or password. */
const BAD_USERNAME_OR_PASSWORD = 4;

/**
 * The optional broker inside the service (aedes, MQTT 3.1.1): observers publish to it, and the
 * service ingests from it through an ordinary source (load-config's embeddedSource) with QoS 1
 * acknowledgements after commit. It listens before the sources connect (module init runs before
 * the MQTT transport starts) and closes last, after the sources have disconnected.
 *
 * Sessions and queued messages live in memory: what observers published that the service had not
 * yet received when it stops is gone (an external broker with persistence keeps it).
 */
@Injectable()
export class EmbeddedBrokerService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('EmbeddedBroker');
  private broker?: Aedes;
  private server?: Server;
  private authFailures = 0;
  /** One hostile client retrying a wrong password must not flood the log. */
  private readonly authLog = new RateLimitedLog<'auth_failed'>({
    emit: (level, line) => this.logger[level](line),
    reasons: ['auth_failed'],
    fallbackReason: 'auth_failed',
    formatSummary: ({ count, seconds, limit }) =>
      `embedded broker: ${count} more refused logins in the last ${seconds} s (suppressed after ${limit} per minute; counted in /api/stats embedded_broker_auth_failures)`,
  });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stats: IngestStatsService,
  ) {}

  get enabled(): boolean {
    return this.config.embeddedBroker.enabled;
  }

  /** The listening address (the real port when 0 was asked for in a test), or undefined when off. */
  address(): { host: string; port: number } | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? { host: address.address, port: address.port } : undefined;
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    const { host, port, users } = this.config.embeddedBroker;
    // aedes is an ES module; loaded only when the broker is on.
    const { Aedes } = await import('aedes');
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const verdict = checkBrokerLogin({ clientId: client.id, username, password }, this.config.embeddedBroker, {
          ...EMBEDDED_INGEST_CREDENTIALS,
          clientId: CONFIG_DEFAULTS.embeddedSource.clientId,
        });
        if (verdict !== 'rejected') return done(null, true);
        this.authFailures++;
        const remote = (client.conn as { remoteAddress?: string }).remoteAddress ?? 'unknown';
        this.authLog.write('warn', { source: remote, reason: 'auth_failed' }, () =>
          `embedded broker: login refused for client ${sanitizeLogText(String(client.id)).slice(0, 64)} from ${sanitizeLogText(remote)} (user ${sanitizeLogText(String(username ?? '(none)')).slice(0, 64)})`,
        );
        const error = Object.assign(new Error('bad user name or password'), { returnCode: BAD_USERNAME_OR_PASSWORD }) as AuthenticateError;
        done(error, false);
      },
    });
    broker.on('clientError', (client, err) => this.logger.debug(`client ${sanitizeLogText(String(client?.id))}: ${sanitizeLogText(err.message)}`));
    this.broker = broker;
    const server = createServer(broker.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`embedded broker cannot listen on ${host}:${port}: ${err.code ?? err.message}`)));
      server.listen(port, host, () => resolve());
    }).catch(async (err: Error) => {
      await this.closeBroker();
      throw err;
    });
    server.on('error', (err) => this.logger.error(`embedded broker: ${sanitizeLogText(err.message)}`));
    this.stats.registerGauge('embedded_broker_clients', () => this.broker?.connectedClients ?? 0);
    this.stats.registerGauge('embedded_broker_auth_failures', () => this.authFailures);
    const listening = this.address();
    const access =
      users.length > 0
        ? `${users.length} user(s), logins required`
        : 'no users configured: ANONYMOUS clients accepted (set embeddedBroker.users to require a login)';
    this.logger.log(`embedded MQTT broker (3.1.1) listening on ${listening?.host}:${listening?.port}; ${access}`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.authLog.close();
    await this.closeBroker();
  }

  private async closeBroker(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    // Closing the broker ends every client connection; the server then stops accepting.
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
