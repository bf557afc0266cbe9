import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Settings } from '@diyml/core';
import { AppModule } from './app.module.js';
import { configureApp } from './configure-app.js';
import { listenWithAcceptors } from './listen.js';

/**
 * Connections the kernel holds for the api while it is busy (Node's default is 511, capped by somaxconn): 500
 * clients connecting at once overflowed 511 (the kernel's ListenOverflows counter rose by hundreds), and every
 * dropped handshake is retried by the client only after 1 s, then 3 s, 7 s: the ~1 s /health delays seen.
 */
const LISTEN_BACKLOG = 4096;
/** Sockets beside the first that accept the api's connections (see listenWithAcceptors). */
const ACCEPTORS = 7;

async function bootstrap(): Promise<void> {
  const app = configureApp(await NestFactory.create(AppModule, { bufferLogs: true, bodyParser: false }));
  const settings = app.get(Settings);
  await app.init();
  await listenWithAcceptors(app.getHttpServer(), {
    port: settings.PORT,
    backlog: LISTEN_BACKLOG,
    acceptors: ACCEPTORS,
  });
  console.log(`diyml API listening on http://localhost:${settings.PORT} (Swagger UI at /docs)`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
