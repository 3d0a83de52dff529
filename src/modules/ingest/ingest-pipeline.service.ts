import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/config.types';
import { decodePacket } from '../decoder/packet-decoder';
import { DecoderService } from '../decoder/decoder.service';
import { DatabaseService } from '../persistence/database.service';
import { SqliteIngestRepository } from '../persistence/repositories/sqlite-ingest.repository';
import { IngestCounters } from '../stats/ingest-counters';
import { IngestMessage } from './ingest-message';
import { PathResolver } from './path-resolution/path-resolver';
import { IngestPipeline } from './pipeline/ingest-pipeline';

/** Nest wrapper of the pipeline: wires config, decoder and the repository on the open database. */
@Injectable()
export class IngestPipelineService implements OnModuleInit {
  private readonly logger = new Logger('Ingest');
  private pipeline?: IngestPipeline;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly decoder: DecoderService,
    private readonly database: DatabaseService,
  ) {}

  onModuleInit(): void {
    this.pipeline = new IngestPipeline({
      config: this.config,
      decode: decodePacket,
      context: this.decoder.context,
      repository: new SqliteIngestRepository(this.database.connection),
      resolver: new PathResolver(),
      logger: this.logger,
    });
  }

  handle(message: IngestMessage, counters: IngestCounters, nowMs?: number): void {
    this.required().handle(message, counters, nowMs);
  }

  refreshPathIndex(): void {
    this.required().refreshPathIndex();
  }

  private required(): IngestPipeline {
    if (!this.pipeline) throw new Error('ingest pipeline used before the database was opened');
    return this.pipeline;
  }
}
