import { ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post, ServiceUnavailableException, UnprocessableEntityException, UseGuards } from '@nestjs/common';
import { MAINTENANCE_JOB_NAMES } from '../../config/maintenance-schedules';
import { ConfigReloadService, type ReloadOutcome } from '../config-reload/config-reload.service';
import type { JobStatus } from '../maintenance/maintenance.scheduler';
import { MaintenanceService } from '../maintenance/maintenance.service';
import { AdminTokenGuard } from './admin-token.guard';

export interface MaintenanceResponse {
  jobs: JobStatus[];
  /** PostgreSQL only: which replica runs the jobs (null: none holds the lock right now) and whether it is this one. */
  leader?: { replica: string | null; self: boolean; thisReplica: string };
}

/**
 * The maintenance jobs for operators: what runs when, how the last run went (GET, open like /api/mqtt/status),
 * and, with the admin token, "run it now" and "reload the schedules from the config file".
 */
@Controller('api/maintenance')
export class MaintenanceController {
  constructor(
    private readonly maintenance: MaintenanceService,
    private readonly reloader: ConfigReloadService,
  ) {}

  @Get()
  async list(): Promise<MaintenanceResponse> {
    const leader = await this.maintenance.leaderStatus();
    return { jobs: this.maintenance.status(), ...(leader && { leader }) };
  }

  /** Re-reads the config file like SIGHUP: 200 with what changed, 422 (nothing changed) when the file is invalid. */
  @Post('reload')
  @UseGuards(AdminTokenGuard)
  @HttpCode(200)
  reload(): ReloadOutcome {
    const outcome = this.reloader.reload('api');
    if (!outcome.ok) throw new UnprocessableEntityException({ statusCode: 422, message: outcome.error, ...outcome });
    return outcome;
  }

  /** 202 with the job's entry (running: true); 409 while it runs; 404 for a name that is not a job. */
  @Post(':name/run')
  @UseGuards(AdminTokenGuard)
  @HttpCode(202)
  run(@Param('name') name: string): JobStatus {
    const outcome = this.maintenance.requestRun(name);
    switch (outcome) {
      case 'unknown':
        throw new NotFoundException(`no maintenance job of that name; jobs: ${MAINTENANCE_JOB_NAMES.join(', ')}`);
      case 'running':
        throw new ConflictException({ statusCode: 409, message: `${name} is running; try again when it has finished`, job: this.maintenance.statusOf(name) });
      case 'stopped':
        throw new ServiceUnavailableException('the service is shutting down');
      case 'standby':
        throw new ConflictException({ statusCode: 409, message: `this replica is not the maintenance leader; run ${name} on the leader`, job: this.maintenance.statusOf(name) });
      case 'unavailable':
        throw new ConflictException({ statusCode: 409, message: `${name} does not run on the ${this.maintenance.engine} engine`, job: this.maintenance.statusOf(name) });
      case 'started':
        return this.maintenance.statusOf(name)!;
    }
  }
}
