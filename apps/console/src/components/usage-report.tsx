import { useQuery } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { api, type Schemas, unwrap } from '../api/client';
import { ErrorMessage } from './error-message';
import { Loading } from './loading';
import { LineChart } from './line-chart';
import { plural } from './plural';

type Report = Schemas['UsageReportDto'];
type Granularity = 'hour' | 'day';

/** The window each granularity shows: the last 48 hours hour by hour, or the last 30 days day by day. */
const WINDOW: Record<Granularity, { periods: number; ms: number; title: string }> = {
  hour: { periods: 48, ms: 3_600_000, title: 'Last 48 hours, per hour' },
  day: { periods: 30, ms: 86_400_000, title: 'Last 30 days, per day (UTC)' },
};

const milliseconds = (value: number | null) => (value === null ? '–' : `${Math.round(value)} ms`);

/** The refusals a caller can fix, in words; the code stays beside them for searching logs. */
const ERROR_REASONS: Record<string, string> = {
  INVALID_API_KEY: 'Wrong or missing deployment key',
  DEPLOYMENT_NOT_FOUND: 'No such deployment (undeployed or mistyped address)',
};

/** Prediction calls, errors by code and latency percentiles of a deployment (or of the whole project), as charts. */
export function UsageReport({
  projectId,
  deploymentId,
  title,
  level = 4,
}: {
  projectId: string;
  deploymentId?: string;
  title: string;
  /** Its heading's level where it is shown: a page's own section (2) or a part of a deployment's card (4). */
  level?: 2 | 4;
}) {
  const Heading = level === 2 ? 'h2' : 'h4';
  const [granularity, setGranularity] = useState<Granularity>('hour');
  const window = WINDOW[granularity];
  const from = useMemo(
    () => new Date(Math.floor(Date.now() / window.ms) * window.ms - (window.periods - 1) * window.ms).toISOString(),
    [window],
  );
  const report = useQuery({
    queryKey: ['usage', projectId, deploymentId ?? 'project', granularity, from],
    queryFn: async (): Promise<Report> => {
      const query = { granularity, from };
      return deploymentId
        ? unwrap(
            await api.GET('/v1/projects/{projectId}/deployments/{deploymentId}/usage', {
              params: { path: { projectId, deploymentId }, query },
            }),
          )
        : unwrap(await api.GET('/v1/projects/{projectId}/usage', { params: { path: { projectId }, query } }));
    },
  });
  return (
    <section className="usage" aria-label={title}>
      <div className="toolbar">
        <Heading>{title}</Heading>
        <label>
          Period
          <select value={granularity} onChange={(event) => setGranularity(event.target.value as Granularity)}>
            <option value="hour">{WINDOW.hour.title}</option>
            <option value="day">{WINDOW.day.title}</option>
          </select>
        </label>
        <button type="button" onClick={() => void report.refetch()} disabled={report.isFetching}>
          Refresh
        </button>
      </div>
      <p className="hint">
        Counts reach the report within a minute of the calls (the server writes them periodically).
      </p>
      <ErrorMessage error={report.error} />
      {report.isPending && <Loading what="the calls" />}
      {report.data && (
        <UsageFigures
          report={report.data}
          from={Date.parse(from)}
          granularity={granularity}
          Subheading={level === 2 ? 'h3' : 'h5'}
        />
      )}
    </section>
  );
}

function UsageFigures({
  report,
  from,
  granularity,
  Subheading,
}: {
  report: Report;
  from: number;
  granularity: Granularity;
  /** One level under the report's heading. */
  Subheading: 'h3' | 'h5';
}) {
  const errorsHeading = useId();
  const { totals } = report;
  const window = WINDOW[granularity];
  // Every period of the window, those without calls at zero, so the charts show quiet hours too.
  const series = useMemo(() => {
    const byStart = new Map(report.periods.map((period) => [Date.parse(period.start), period]));
    const starts = Array.from({ length: window.periods }, (_, index) => from + index * window.ms);
    const at = (start: number) => byStart.get(start);
    return {
      x: starts.map((start) => start / 1000),
      calls: starts.map((start) => at(start)?.calls ?? 0),
      errors: starts.map((start) => at(start)?.errorCount ?? 0),
      p50: starts.map((start) => at(start)?.latencyMs.p50 ?? null),
      p95: starts.map((start) => at(start)?.latencyMs.p95 ?? null),
      p99: starts.map((start) => at(start)?.latencyMs.p99 ?? null),
    };
  }, [report, from, window]);
  if (totals.calls === 0) return <p className="hint">No prediction calls in this period yet.</p>;
  const errors = Object.entries(totals.errors).sort(([, a], [, b]) => b - a);
  return (
    <>
      <dl className="summary">
        <div>
          <dt>Calls</dt>
          <dd>{totals.calls}</dd>
        </div>
        <div>
          <dt>Errors</dt>
          <dd>{totals.errorCount}</dd>
        </div>
        <div>
          <dt>Latency p50</dt>
          <dd>{milliseconds(totals.latencyMs.p50)}</dd>
        </div>
        <div>
          <dt>p95</dt>
          <dd>{milliseconds(totals.latencyMs.p95)}</dd>
        </div>
        <div>
          <dt>p99</dt>
          <dd>{milliseconds(totals.latencyMs.p99)}</dd>
        </div>
      </dl>
      {errors.length > 0 && (
        <>
          <Subheading id={errorsHeading}>Errors by reason</Subheading>
          <ul aria-labelledby={errorsHeading}>
            {errors.map(([code, count]) => (
              <li key={code}>
                {ERROR_REASONS[code] ? `${ERROR_REASONS[code]} ` : ''}
                <code>{code}</code>: {plural(count, 'call')}
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="charts">
        <LineChart
          title="Calls and errors"
          timeAxis
          xLabel={granularity}
          x={series.x}
          series={[
            { label: 'calls', values: series.calls, colour: '#1d4ed8' },
            { label: 'errors', values: series.errors, colour: '#b91c1c' },
          ]}
        />
        <LineChart
          title="Latency (ms)"
          timeAxis
          xLabel={granularity}
          x={series.x}
          series={[
            { label: 'p50', values: series.p50, colour: '#16a34a' },
            { label: 'p95', values: series.p95, colour: '#f59e0b' },
            { label: 'p99', values: series.p99, colour: '#b91c1c' },
          ]}
        />
      </div>
      {report.callers.length > 0 && (
        <table aria-label="Callers">
          <thead>
            <tr>
              <th scope="col">Caller</th>
              <th scope="col">Calls</th>
            </tr>
          </thead>
          <tbody>
            {report.callers.map((caller) => (
              <tr key={caller.callerId}>
                <td>{caller.username ?? 'the deployment key'}</td>
                <td>{caller.calls}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
