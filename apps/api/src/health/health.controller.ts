import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { EventStore } from '../../../../libs/event-store/src/index.js';
import { Public } from '../../../../libs/identity/src/index.js';
import { ProjectionRunner } from '../../../../libs/read-store/src/index.js';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
  ) {}

  @Public()
  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness and readiness: the event log answers and read models keep up' })
  check() {
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
        const indicator = this.indicators.check('readModels');
        const head = await this.events.headPosition();
        const lag = Math.max(0, head - this.projections.currentPosition);
        return indicator.up({ position: this.projections.currentPosition, lag });
      },
    ]);
  }
}
