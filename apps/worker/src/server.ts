import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import {
  connectToDependenciesAtStartup,
  exitOnSignalIfStillClosingAfter,
  Settings,
  validateSettings,
} from '@diyml/core';
import { WorkerModule } from './worker.module.js';

async function bootstrap(): Promise<void> {
  // Before the modules connect: a wrong POSTGRES_URL or REDIS_URL stops start-up with one line saying so.
  await connectToDependenciesAtStartup(validateSettings(process.env));
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  const settings = app.get(Settings);
  if (!settings.REDIS_URL) {
    await app.close();
    throw new Error('The worker takes jobs from Redis: set REDIS_URL. (Without it, the api runs jobs itself.)');
  }
  await app.init();
  exitOnSignalIfStillClosingAfter('worker', settings.SHUTDOWN_TIMEOUT_SECONDS);
  console.log('diyml worker waiting for jobs');
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
