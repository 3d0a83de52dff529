import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { MaintenanceService } from './maintenance.service';

/**
 * Database maintenance (ingestor-spec §5): start-up jobs and schedules. Needs APP_CONFIG and the
 * SchedulerRegistry of ScheduleModule.forRoot() from the importing application.
 */
@Module({
  imports: [PersistenceModule],
  providers: [MaintenanceService],
  exports: [MaintenanceService],
})
export class MaintenanceModule {}
