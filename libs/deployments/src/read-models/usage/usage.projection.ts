import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store/pure';
import { type LatencyHistogram, mergeCounts } from '../../domain/latency-histogram.js';
import { type DeploymentUsageRecorded, USAGE_EVENT_TYPES } from '../../domain/usage.events.js';

export const DEPLOYMENT_USAGE = 'deployment-usage';

/** A deployment's predictions in one hour, summed over every flush of every api process. */
export interface HourlyUsageView {
  /** `<deploymentId>:<hour>`. */
  id: string;
  projectId: string;
  deploymentId: string;
  hour: string;
  calls: number;
  errors: Record<string, number>;
  latency: LatencyHistogram;
  callers: Record<string, number>;
}

@ReadModelProjection()
@Injectable()
export class UsageProjection implements Projection<DeploymentUsageRecorded> {
  readonly name = 'deployment-usage';
  readonly version = 1;
  readonly collections = [DEPLOYMENT_USAGE];
  readonly eventTypes = USAGE_EVENT_TYPES;

  async apply(event: Recorded<DeploymentUsageRecorded>, store: ReadStore): Promise<void> {
    const { data } = event;
    const id = `${data.deploymentId}:${data.hour}`;
    await store.collection<HourlyUsageView>(DEPLOYMENT_USAGE).apply(id, event.position, (current) => ({
      id,
      projectId: data.projectId,
      deploymentId: data.deploymentId,
      hour: data.hour,
      calls: (current?.calls ?? 0) + data.calls,
      errors: mergeCounts({ ...current?.errors }, data.errors),
      latency: mergeCounts({ ...current?.latency }, data.latency),
      callers: mergeCounts({ ...current?.callers }, data.callers),
    }));
  }
}
