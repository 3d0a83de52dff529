import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module';
import { MaintenanceModule } from '../maintenance/maintenance.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { StartupService } from './startup.service';

@Module({
  imports: [PersistenceModule, IngestModule, MaintenanceModule],
  providers: [StartupService],
  exports: [StartupService],
})
export class StartupModule {}
