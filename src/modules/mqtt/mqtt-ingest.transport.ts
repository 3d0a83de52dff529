import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { MqttClient } from 'mqtt';
import { MqttSourcePool } from './mqtt-source-pool.service';

/**
 * The MQTT intake as a Nest microservice transport: Nest drives its lifecycle (listen on
 * startAllMicroservices, close on shutdown); the pool, a regular provider, owns the clients.
 * Messages do not go through @EventPattern handlers: they carry a source identity and raw bytes
 * that Nest's built-in MQTT server cannot express, and the hot path skips the RxJS pipeline.
 */
export class MqttIngestTransport extends Server implements CustomTransportStrategy {
  constructor(private readonly pool: MqttSourcePool) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.pool.start();
    callback();
  }

  async close(): Promise<void> {
    await this.pool.stop();
  }

  on(): void {
    throw new Error('MqttIngestTransport has no events to subscribe to; use GET /api/mqtt/status');
  }

  unwrap<T>(): T {
    return this.pool as unknown as T;
  }
}

export type { MqttClient };
