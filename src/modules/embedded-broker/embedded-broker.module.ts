import { Module } from '@nestjs/common';
import { EmbeddedBrokerService } from './embedded-broker.service';

@Module({ providers: [EmbeddedBrokerService], exports: [EmbeddedBrokerService] })
export class EmbeddedBrokerModule {}
