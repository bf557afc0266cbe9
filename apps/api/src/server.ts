import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { connectToDependenciesAtStartup, Settings, validateSettings } from '@diyml/core';
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
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => exitIfStillClosingAfter(settings.SHUTDOWN_TIMEOUT_SECONDS));
}

/**
 * Nest's shutdown hooks close the HTTP server and every store; should one never finish, the api still exits, saying
 * what was left open. The timer does not keep the process alive itself.
 */
function exitIfStillClosingAfter(seconds: number): void {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().join(', ');
    console.error(
      `Shutdown did not finish within ${seconds} s (SHUTDOWN_TIMEOUT_SECONDS); still open: ${open}. Exiting.`,
    );
    process.exit(1);
  }, seconds * 1000).unref();
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
