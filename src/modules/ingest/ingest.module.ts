import { Module } from '@nestjs/common';
import { DecoderModule } from '../decoder/decoder.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { IngestPipelineService } from './ingest-pipeline.service';
import { IngestWriterService } from './ingest-writer.service';

@Module({
  imports: [DecoderModule, PersistenceModule],
  providers: [IngestPipelineService, IngestWriterService],
  exports: [IngestPipelineService, IngestWriterService],
})
export class IngestModule {}
