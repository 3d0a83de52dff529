import { Module } from '@nestjs/common';
import { MaintenanceModule } from '../maintenance/maintenance.module';
import { ConfigReloadService } from './config-reload.service';

/** Live reload of the config file (SIGHUP, POST /api/maintenance/reload). */
@Module({
  imports: [MaintenanceModule],
  providers: [ConfigReloadService],
  exports: [ConfigReloadService],
})
export class ConfigReloadModule {}
