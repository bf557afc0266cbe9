import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import {
  connectToDependenciesAtStartup,
  exitOnSignalIfStillClosingAfter,
  Settings,
  validateSettings,
} from '@diyml/core';
import { AppModule } from './app.module.js';
import { configureApp } from './configure-app.js';
import { listenWithAcceptors } from './listen.js';

async function bootstrap(): Promise<void> {
  // Before the modules connect: a wrong POSTGRES_URL or REDIS_URL stops start-up with one line saying so.
  await connectToDependenciesAtStartup(validateSettings(process.env));
  const app = configureApp(await NestFactory.create(AppModule, { bufferLogs: true, bodyParser: false }));
  const settings = app.get(Settings);
  await app.init();
  await listenWithAcceptors(app.getHttpServer(), { port: settings.PORT });
  console.log(`diyml API listening on http://localhost:${settings.PORT} (Swagger UI at /docs)`);
  exitOnSignalIfStillClosingAfter('api', settings.SHUTDOWN_TIMEOUT_SECONDS);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
