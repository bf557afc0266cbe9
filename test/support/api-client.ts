import { expect } from 'vitest';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { TestApp } from './test-app.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];

/** One Server-Sent Event of an iteration's stream: its type (iteration, batch) and parsed data. */
export interface IterationEvent {
  type: string | undefined;
  data: Record<string, unknown>;
}

/** A logged-in client for the project, image and iteration endpoints, as a user of the API would write it. */
export class ApiClient {
  constructor(
    /** An app started in the test, or a spawned api: `{ http: request(url) }`. */
    private readonly testApp: Pick<TestApp, 'http'>,
    readonly auth: string,
  ) {}

  get http() {
    return this.testApp.http;
  }

  async createProject(type: 'classification' | 'multilabel' | 'detection', labels: string[], name = `project ${type}`) {
    const project = await this.http
      .post('/v1/projects')
      .set('Authorization', this.auth)
      .send({ name, type })
      .expect(201);
    const created: Record<string, string> = {};
    for (const label of labels) {
      const response = await this.http
        .post(`/v1/projects/${project.body.id}/labels`)
        .set('Authorization', this.auth)
        .send({ name: label })
        .expect(201);
      created[label] = response.body.id;
    }
    return { id: project.body.id as string, labels: created };
  }

  async upload(
    projectId: string,
    files: Buffer[],
    fields: { label?: string; labels?: string; split?: string } = {},
    prefix = 'image',
  ) {
    let request = this.http.post(`/v1/projects/${projectId}/images`).set('Authorization', this.auth);
    files.forEach((file, index) => {
      request = request.attach('images', file, `${prefix}-${index}.png`);
    });
    for (const [name, value] of Object.entries(fields)) request = request.field(name, value);
    const response = await request;
    expect([201, 207]).toContain(response.status);
    return response.body.items as { filename: string; status: string; id?: string }[];
  }

  async configureTraining(projectId: string, config: Record<string, unknown>) {
    await this.http
      .put(`/v1/projects/${projectId}/training-config`)
      .set('Authorization', this.auth)
      .send(config)
      .expect(200);
  }

  async train(projectId: string, trainingConfig?: Record<string, unknown>) {
    const response = await this.http
      .post(`/v1/projects/${projectId}/iterations`)
      .set('Authorization', this.auth)
      .send(trainingConfig ? { trainingConfig } : {});
    expect({ status: response.status, problems: response.body.details?.problems }).toEqual({
      status: 202,
      problems: undefined,
    });
    return response.body as { id: string; status: string; number: number };
  }

  async iteration(projectId: string, iterationId: string) {
    const response = await this.http
      .get(`/v1/projects/${projectId}/iterations/${iterationId}`)
      .set('Authorization', this.auth)
      .expect(200);
    return response.body;
  }

  /**
   * The iteration's Server-Sent Events (type and parsed data), read until the stream ends at the final status;
   * `onEvent` sees each as it arrives, e.g. to act on the iteration mid-stream.
   */
  async iterationEvents(
    projectId: string,
    iterationId: string,
    onEvent: (event: IterationEvent, received: IterationEvent[]) => void = () => undefined,
  ) {
    const response = await this.http
      .get(`/v1/projects/${projectId}/iterations/${iterationId}/events`)
      .set('Authorization', this.auth)
      .buffer(true)
      .parse((res, done) => {
        const events: IterationEvent[] = [];
        const parser = createParser({
          onEvent: (message: EventSourceMessage) => {
            const event = { type: message.event, data: JSON.parse(message.data) as Record<string, unknown> };
            events.push(event);
            onEvent(event, events);
          },
        });
        res.on('data', (chunk: Buffer) => parser.feed(chunk.toString()));
        res.on('end', () => done(null, events));
      })
      .expect(200);
    expect(response.headers['content-type']).toContain('text/event-stream');
    return response.body as IterationEvent[];
  }

  /** Polls until the iteration is completed, failed or cancelled. */
  async waitForIteration(projectId: string, iterationId: string, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const iteration = await this.iteration(projectId, iterationId);
      if (TERMINAL.includes(iteration.status)) return iteration;
      if (Date.now() > deadline) throw new Error(`iteration still ${iteration.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
