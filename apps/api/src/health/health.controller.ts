import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ApiErrorDto, DomainError } from '@diyml/core';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { EventStore } from '@diyml/event-store';
import { JobQueue } from '@diyml/jobs';
import { Public } from '@diyml/identity';
import { ProjectionRunner } from '@diyml/read-store';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly jobs: JobQueue,
  ) {}

  @Public()
  @Get()
  @HealthCheck()
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Readiness: the event log and the job queue answer, and read models keep up',
  })
  @ApiServiceUnavailableResponse({
    type: ApiErrorDto,
    description:
      'UNHEALTHY: the event log or the job queue (Redis) does not answer, or a projection parked an event it could not ' +
      'apply; the message names the part (for a parked event the projection, event type and position), `details` ' +
      'holds the state of every part.',
  })
  async check() {
    try {
      return await this.checkParts();
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      // In the stable error body, with what failed in the message and every part's state in details.
      const result = error.getResponse() as HealthCheckResult;
      const failing = Object.entries(result.error ?? {}).map(
        ([part, state]) => `${part}: ${String(state?.message ?? 'down')}`,
      );
      throw new DomainError('unavailable', 'UNHEALTHY', `Not healthy. ${failing.join('; ')}`, result);
    }
  }

  private checkParts() {
    return this.health.check([
      async () => {
        const indicator = this.indicators.check('eventStore');
        try {
          return indicator.up({ headPosition: await this.events.headPosition() });
        } catch (error) {
          return indicator.down({ message: String(error) });
        }
      },
      async () => {
        const indicator = this.indicators.check('jobs');
        // Down while Redis is: writes are still taken, and the jobs they start are queued once it answers again.
        try {
          await this.jobs.check();
          return indicator.up();
        } catch (error) {
          return indicator.down({ message: error instanceof Error ? error.message : String(error) });
        }
      },
      async () => {
        const indicator = this.indicators.check('readModels');
        // A process following another's shared read models answers with that process's progress and parked events.
        let head: number, status: Awaited<ReturnType<ProjectionRunner['status']>>;
        try {
          [head, status] = await Promise.all([this.events.headPosition(), this.projections.status()]);
        } catch (error) {
          return indicator.down({ message: error instanceof Error ? error.message : String(error) });
        }
        const lag = Math.max(0, head - status.position);
        const parked = status.parked.map(({ projection, position, type, error }) => ({
          projection,
          position,
          type,
          error,
        }));
        if (parked.length) {
          const first = parked[0];
          return indicator.down({
            message: `${parked.length} event(s) could not be projected, first ${first.type} at position ${first.position} in ${first.projection}: fix the cause and restart (or rebuild) that projection`,
            position: status.position,
            lag,
            parked,
          });
        }
        return indicator.up({ position: status.position, lag });
      },
    ]);
  }
}
