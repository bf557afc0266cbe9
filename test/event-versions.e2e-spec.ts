import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { EventStore, SqliteEventStore, Upcasters } from '@diyml/event-store';
import { identityUpcasters } from '@diyml/identity';
import { startTestApp } from './support/test-app.js';

interface StoredEventFixture {
  streamId: string;
  type: string;
  v: number;
  data: Record<string, unknown>;
  metadata: { userId: string | null; correlationId: string; causationId: string | null; at: string };
}

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/events/${name}.json`, import.meta.url), 'utf8')) as StoredEventFixture;

describe('old event versions', () => {
  it('reads a stored UserRegistered v1 as v2, with the password hash under credentials', async () => {
    const v1 = fixture('UserRegistered.v1');
    const store = new SqliteEventStore({ filename: ':memory:', upcasters: new Upcasters(identityUpcasters) });
    await store.append(v1.streamId, [{ type: v1.type, v: v1.v, data: v1.data }], {
      expectedRevision: 'no_stream',
      metadata: v1.metadata,
    });
    const [event] = await store.readStream(v1.streamId);
    expect(event.v).toBe(2);
    expect(event.data).toEqual({
      userId: v1.data.userId,
      username: 'legacy',
      credentials: { algorithm: 'argon2id', hash: v1.data.passwordHash },
      registeredAt: v1.data.registeredAt,
    });
    await store.close();
  });

  it('lets a user registered under v1 log in after an upgrade', async () => {
    const v1 = fixture('UserRegistered.v1');
    const testApp = await startTestApp();
    await testApp.app.get(EventStore).append(v1.streamId, [{ type: v1.type, v: v1.v, data: v1.data }], {
      expectedRevision: 'no_stream',
      metadata: v1.metadata,
    });
    await testApp.close();
    const restarted = await startTestApp({ dataDir: testApp.dataDir });
    const login = await restarted.http.post('/v1/auth/login').send({ username: 'legacy', password: 'legacy-password' });
    expect(login.status).toBe(200);
    await restarted.destroy();
  });
});
