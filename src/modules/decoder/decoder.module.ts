import { Module } from '@nestjs/common';
import { DecoderService } from './decoder.service';

/**
 * The packet decoder. Needs APP_CONFIG, which the application provides globally; exports
 * DecoderService (production key ring, region keys, signature cache).
 */
@Module({
  providers: [DecoderService],
  exports: [DecoderService],
})
export class DecoderModule {}
