import type { DomainEvent } from '@diyml/core/pure';
import type { LatencyHistogram } from './latency-histogram.js';

/**
 * One stream per deployment. Usage events only add counts, so their order does not matter and every api
 * process appends to it without an expected revision (see UsageRecorder).
 */
export const deploymentUsageStream = (deploymentId: string) => `deployment-usage-${deploymentId}`;

/** The caller id of predictions made with the deployment key (not a user). */
export const DEPLOYMENT_KEY_CALLER = 'deployment-key';

/**
 * Predictions of one deployment in one hour, as counted by one api process since its previous flush: one
 * event per deployment, hour and flush (not one per prediction), so a busy endpoint adds a few events a minute.
 */
export type DeploymentUsageRecorded = DomainEvent<
  'DeploymentUsageRecorded',
  {
    projectId: string;
    deploymentId: string;
    /** Start of the hour (UTC, ISO 8601). */
    hour: string;
    calls: number;
    /** Failed calls by error code. */
    errors: Record<string, number>;
    latency: LatencyHistogram;
    /** Calls by caller: a user id, or DEPLOYMENT_KEY_CALLER. */
    callers: Record<string, number>;
  }
>;

export const USAGE_EVENT_TYPES = ['DeploymentUsageRecorded'] as const;
