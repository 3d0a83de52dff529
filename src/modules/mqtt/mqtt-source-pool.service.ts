import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { connect, IPublishPacket, MqttClient } from 'mqtt';
import { maskBrokerUrl } from '../../common/masking/mask-broker-url';
import { sanitizeLogText } from '../../common/logging/sanitize-log-text';
import { APP_CONFIG, AppConfig, MqttSourceConfig } from '../../config/config.types';
import { IngestWriterService } from '../ingest/ingest-writer.service';
import { IngestMessage } from '../ingest/ingest-message';
import { SourceStatusRegistry } from '../source-status/source-status.registry';
import { buildClientOptions, RECONNECT_MAX_MS, RECONNECT_START_MS, subscriptionTopics } from './mqtt-client-options';
import { StallWatchdog } from './stall-watchdog';

/**
 * Longest a QoS 0 message waits for room in a full ingest buffer before it is dropped: holding
 * the client's packet pump much longer would miss PINGRESP and cost the whole connection.
 */
const QOS0_MAX_HOLD_MS = 10_000;
/** At shutdown, how long the connections stay up while the writer stores what is queued. */
const SHUTDOWN_DRAIN_MS = 10_000;

interface SourceConnection {
  readonly config: MqttSourceConfig;
  readonly tag: string;
  readonly broker: string;
  client?: MqttClient;
  attempts: number;
  /** Last error seen since the last connect; becomes lastError when the connection is lost. */
  pendingError?: string;
  wasConnected: boolean;
  /** Incremented on every connect: an acknowledgement is only sent on the connection that received the message. */
  generation: number;
  /** QoS 1 message id → resolves when the transaction holding the message has committed. */
  pendingAcks: Map<number, Promise<void>>;
}

/** The part of mqtt.js's client we wrap to defer PUBACKs (pinned mqtt 5.16; covered by the e2e at-least-once test). */
interface PacketSender {
  _sendPacket(packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, cbStorePut?: unknown, noStore?: boolean): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function errorText(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

/**
 * One mqtt.js client per configured source (ingestor-spec §2.1). Clients connect in the
 * background: a broker that is down never blocks start-up, HTTP or the other sources.
 * Every message is handed to the single writer with its source tag and the raw payload bytes.
 */
@Injectable()
export class MqttSourcePool implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Mqtt');
  private readonly connections: SourceConnection[];
  readonly watchdog: StallWatchdog;
  private started = false;
  /** Shutdown began: new messages are no longer taken (QoS 1: the broker keeps them). */
  private intakeClosed = false;
  private heldAtShutdown = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly status: SourceStatusRegistry,
    private readonly writer: IngestWriterService,
  ) {
    this.connections = config.mqttSources.map((source) => ({
      config: source,
      tag: source.name,
      broker: source.broker,
      attempts: 0,
      wasConnected: false,
      generation: 0,
      pendingAcks: new Map(),
    }));
    this.watchdog = new StallWatchdog({
      intervalMs: config.watchdog.intervalSec * 1000,
      thresholdSec: config.watchdog.thresholdSec,
      isConnected: (tag) => this.connectionsByTag(tag).some((c) => c.client?.connected === true),
      forceReconnect: (tag) => this.connectionsByTag(tag).forEach((c) => this.forceReconnect(c)),
      emit: (line, level) => this.logger[level](line),
      statsSink: status,
    });
    this.writer.onMessagesProcessed((sources) => sources.forEach((tag) => this.watchdog.markMessage(tag)));
  }

  get sourceCount(): number {
    return this.connections.length;
  }

  connectedCount(): number {
    return this.connections.filter((c) => c.client?.connected).length;
  }

  /** Creates every client (non-blocking) and starts the stall watchdog. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const conn of this.connections) {
      this.status.register(conn.tag, conn.broker);
      this.watchdog.register(conn.tag, conn.broker);
      this.open(conn);
    }
    this.watchdog.start();
    void this.reportInitialConnections();
  }

  /** Intake stops before the writer drains (this module is shut down before the ingest module). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /**
   * Shutdown (§7.2): intake stops, the writer stores what is queued while the connections stay up
   * (so the QoS 1 acknowledgements of what it stores reach the broker: nothing stored is
   * redelivered), then every client disconnects, waiting up to 5 s each for in-flight work.
   */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.intakeClosed = true;
    this.watchdog.stop();
    await Promise.race([this.writer.drain(), sleep(SHUTDOWN_DRAIN_MS)]);
    if (this.heldAtShutdown > 0) {
      this.logger.log(`${this.heldAtShutdown} message(s) arrived after intake closed: not taken (a QoS 1 broker redelivers them)`);
    }
    await Promise.all(
      this.connections.map(
        (conn) =>
          new Promise<void>((resolve) => {
            const client = conn.client;
            if (!client) return resolve();
            const timer = setTimeout(() => client.end(true, {}, () => resolve()), 5_000);
            client.end(false, {}, () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }

  private connectionsByTag(tag: string): SourceConnection[] {
    return this.connections.filter((c) => c.tag === tag);
  }

  private label(conn: SourceConnection): string {
    return `MQTT [${maskBrokerUrl(conn.tag)}]`;
  }

  private open(conn: SourceConnection): void {
    const broker = maskBrokerUrl(conn.broker);
    conn.attempts += 1;
    this.watchdog.noteConnectionAttempt(conn.tag);
    this.logger.log(`${this.label(conn)} connection attempt #${conn.attempts} to ${broker}`);
    const client = connect(conn.broker, buildClientOptions(conn.config));
    conn.client = client;

    // Messages are taken over from mqtt.js at handleMessage: the client reads its next packet only
    // after the callback, which gives us backpressure and acknowledge-after-commit for QoS 1.
    client.handleMessage = (packet: IPublishPacket, callback: (error?: Error) => void) => {
      this.receive(conn, packet, callback);
    };
    if (conn.config.qos === 1) this.deferAcknowledgements(conn, client);

    client.on('connect', () => {
      conn.generation += 1;
      conn.pendingAcks.clear();
      client.options.reconnectPeriod = RECONNECT_START_MS;
      conn.pendingError = undefined;
      conn.wasConnected = true;
      this.status.markConnect(conn.tag);
      this.watchdog.markReconnected(conn.tag);
      this.logger.log(`${this.label(conn)} connected to ${broker}`);
      this.subscribe(conn, client);
    });
    client.on('error', (err) => {
      conn.pendingError = errorText(err);
      if (!client.connected) this.logger.warn(`${this.label(conn)} connection error: ${sanitizeLogText(conn.pendingError)}`);
    });
    client.on('close', () => {
      if (!this.started) {
        if (conn.wasConnected) this.logger.log(`${this.label(conn)} closed (shutting down)`);
        conn.wasConnected = false;
        return;
      }
      if (conn.wasConnected) {
        conn.wasConnected = false;
        const reason = conn.pendingError ?? 'EOF';
        this.status.markDisconnect(conn.tag, reason);
        this.logger.warn(`${this.label(conn)} disconnected from ${broker}: ${sanitizeLogText(reason)}`);
      }
    });
    client.on('reconnect', () => {
      conn.attempts += 1;
      this.watchdog.noteConnectionAttempt(conn.tag);
      const period = client.options.reconnectPeriod ?? RECONNECT_START_MS;
      this.logger.log(`${this.label(conn)} reconnecting to ${broker} (attempt #${conn.attempts})`);
      // Exponential backoff, capped at 30 s: mqtt.js reads the period each time it schedules.
      client.options.reconnectPeriod = Math.min(Math.max(period, RECONNECT_START_MS) * 2, RECONNECT_MAX_MS);
    });
  }

  private subscribe(conn: SourceConnection, client: MqttClient): void {
    const qos = conn.config.qos;
    for (const topic of subscriptionTopics(conn.config)) {
      client.subscribe(topic, { qos }, (err, granted) => {
        if (err) {
          this.logger.warn(`${this.label(conn)} subscribe error for ${topic}: ${sanitizeLogText(errorText(err))}`);
          return;
        }
        const refused = granted?.some((g) => g.qos === 128);
        if (refused) this.logger.warn(`${this.label(conn)} subscribe error for ${topic}: refused by broker`);
        // The granted QoS shows what the broker agreed to: 1 means each message is acknowledged after its commit.
        else this.logger.log(`${this.label(conn)} subscribed to ${topic}${qos === 1 ? ` (QoS ${granted?.[0]?.qos ?? '?'} granted)` : ''}`);
      });
    }
  }

  private receive(conn: SourceConnection, packet: IPublishPacket, callback: (error?: Error) => void): void {
    if (this.intakeClosed) {
      // Never called back: no acknowledgement, and mqtt.js reads nothing more from this client.
      this.heldAtShutdown++;
      return;
    }
    this.status.markPacket(conn.tag);
    this.watchdog.markReceipt(conn.tag);
    const message: IngestMessage = {
      source: conn.tag,
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
    };
    if (packet.qos > 0 && conn.config.qos === 1 && packet.messageId !== undefined) {
      // Acknowledge only once the transaction holding the message has committed (the PUBACK is
      // held back in deferAcknowledgements, while mqtt.js goes on reading the next messages).
      const messageId = packet.messageId;
      conn.pendingAcks.set(messageId, new Promise<void>((resolve) => (message.onCommitted = () => resolve())));
      if (this.writer.hasRoom()) {
        this.writer.submit(message, true);
        callback();
        return;
      }
      // Buffer full: hold this client's reads until there is room; the broker keeps the rest.
      void this.writer.waitForRoom().then(() => {
        this.writer.submit(message, true);
        callback();
      });
      return;
    }
    if (!this.writer.isStarted || this.writer.hasRoom()) {
      this.writer.submit(message);
      callback();
      return;
    }
    // Buffer full while writing: pause this client's reads (broker-side queueing) for a bounded time.
    void Promise.race([this.writer.waitForRoom(), sleep(QOS0_MAX_HOLD_MS)]).then(() => {
      this.writer.submit(message);
      callback();
    });
  }

  /**
   * mqtt.js sends a QoS 1 PUBACK as soon as handleMessage calls back, and reads the next packet
   * only after that. To get both (keep reading, acknowledge after commit), PUBACKs of messages not
   * yet committed are held here and written once their commit resolves — on the same connection
   * only: after a reconnect the broker redelivers them and dedup stores nothing twice.
   */
  private deferAcknowledgements(conn: SourceConnection, client: MqttClient): void {
    const sender = client as unknown as PacketSender;
    const send = sender._sendPacket.bind(client);
    sender._sendPacket = (packet, cb, cbStorePut, noStore) => {
      const committed = packet.cmd === 'puback' && packet.messageId !== undefined ? conn.pendingAcks.get(packet.messageId) : undefined;
      if (!committed) return send(packet, cb, cbStorePut, noStore);
      conn.pendingAcks.delete(packet.messageId!);
      const generation = conn.generation;
      cb?.();
      void committed.then(() => {
        if (conn.generation === generation && client.connected) send(packet);
      });
    };
  }

  private forceReconnect(conn: SourceConnection): void {
    const client = conn.client;
    if (!client) return;
    if (client.connected) {
      // Half-open TCP: destroying the socket makes mqtt.js notice and run its reconnect loop.
      client.stream.destroy();
    } else {
      client.reconnect();
    }
  }

  private async reportInitialConnections(): Promise<void> {
    const waitMs = Math.max(...this.connections.map((c) => c.config.connectTimeoutSec), 0) * 1000;
    const deadline = Date.now() + waitMs;
    while (this.started && Date.now() < deadline && this.connectedCount() < this.connections.length) await sleep(100);
    if (!this.started) return;
    const connected = this.connectedCount();
    const retrying = this.connections.length - connected;
    if (connected === 0) {
      this.logger.warn(
        `no MQTT source connected yet — the service stays up and keeps retrying (${retrying} source(s)); see GET /api/mqtt/status`,
      );
    } else {
      this.logger.log(`Running — ${connected} MQTT source(s) connected${retrying ? `, ${retrying} retrying in background` : ''}`);
    }
  }
}
