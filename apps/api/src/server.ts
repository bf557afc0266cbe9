import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Settings } from '@diyml/core';
import { AppModule } from './app.module.js';
import { configureApp } from './configure-app.js';

/**
 * Connections the kernel holds for the api while it is busy (Node's default is 511, capped by somaxconn): 500
 * clients connecting at once overflowed 511 (the kernel's ListenOverflows counter rose by hundreds), and every
 * dropped handshake is retried by the client only after 1 s, then 3 s, 7 s: the ~1 s /health delays seen.
 */
const LISTEN_BACKLOG = 4096;

async function bootstrap(): Promise<void> {
  const app = configureApp(await NestFactory.create(AppModule, { bufferLogs: true, bodyParser: false }));
  const settings = app.get(Settings);
  // Node's listen(port, backlog): Nest hands its arguments to it as they are, but types only (port, hostname).
  const listen = app.listen as unknown as (port: number, backlog: number) => Promise<unknown>;
  await listen.call(app, settings.PORT, LISTEN_BACKLOG);
  console.log(`diyml API listening on http://localhost:${settings.PORT} (Swagger UI at /docs)`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
