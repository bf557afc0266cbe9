import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DomainExceptionFilter } from './domain-exception.filter.js';

/** The error a client really throws, not one built to look like it. */
async function errorOf(request: () => Promise<unknown>): Promise<unknown> {
  try {
    await request();
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail');
}

describe('DomainExceptionFilter', () => {
  const filter = new DomainExceptionFilter();
  const unavailable = { statusCode: 503, code: 'DEPENDENCY_UNAVAILABLE' };

  it('answers 503 DEPENDENCY_UNAVAILABLE, not 500, when PostgreSQL refuses the connection', async () => {
    // Nothing listens on port 1.
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' });
    const error = await errorOf(() => pool.query('SELECT 1'));
    await pool.end();
    expect(filter.toBody(error)).toMatchObject(unavailable);
  });

  it('answers 503 DEPENDENCY_UNAVAILABLE when Redis does not answer a command', async () => {
    // disconnectTimeout 0: ioredis otherwise keeps a 2 s timer to end a socket that never opened, which held the test
    // worker past its exit ("A worker process has failed to exit gracefully").
    const redis = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      disconnectTimeout: 0,
    });
    const error = await errorOf(() => redis.get('key'));
    redis.disconnect();
    expect(filter.toBody(error)).toMatchObject(unavailable);
  });

  it('answers 500 INTERNAL_ERROR for any other error, without its message', () => {
    expect(filter.toBody(new TypeError('x is undefined'))).toEqual({
      statusCode: 500,
      code: 'INTERNAL_ERROR',
      message: 'Something went wrong on our side.',
    });
  });
});
