import { Module } from '@nestjs/common';
import { DatabaseService } from './database.service';

/**
 * The SQLite persistence layer. Needs APP_CONFIG from the importing application; exports DatabaseService,
 * which opens and migrates the database during module init and closes it on application shutdown
 * (`app.enableShutdownHooks()` is required for the latter).
 */
@Module({
  providers: [DatabaseService],
  exports: [DatabaseService],
})
export class PersistenceModule {}
