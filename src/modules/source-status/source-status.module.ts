import { Module } from '@nestjs/common';
import { MqttStatusController } from './mqtt-status.controller';
import { SourceStatusRegistry } from './source-status.registry';

@Module({
  controllers: [MqttStatusController],
  providers: [SourceStatusRegistry],
  exports: [SourceStatusRegistry],
})
export class SourceStatusModule {}
