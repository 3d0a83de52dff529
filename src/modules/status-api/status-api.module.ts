import { Module } from '@nestjs/common';
import { ConfigReloadModule } from '../config-reload/config-reload.module';
import { MaintenanceModule } from '../maintenance/maintenance.module';
import { SourceStatusModule } from '../source-status/source-status.module';
import { AdminTokenGuard } from './admin-token.guard';
import { MaintenanceController } from './maintenance.controller';
import { MqttStatusController } from './mqtt-status.controller';
import { StatusPageController } from './status-page/status-page.controller';

/** The operator's status routes: GET /api/mqtt/status, GET /api/maintenance and the admin POST routes. */
@Module({
  imports: [SourceStatusModule, MaintenanceModule, ConfigReloadModule],
  controllers: [MqttStatusController, MaintenanceController, StatusPageController],
  providers: [AdminTokenGuard],
})
export class StatusApiModule {}
