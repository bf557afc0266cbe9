import { Global, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AuthThrottle } from './auth-throttle/auth-throttle.js';
import { FailedAttempts } from './auth-throttle/failed-attempts.port.js';
import { InMemoryFailedAttempts } from './auth-throttle/in-memory-failed-attempts.js';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Clock, IdGenerator, SystemClock, UuidGenerator } from './domain/clock.js';
import { SETTING_NAMES, Settings, validateSettings } from './config/settings.js';
import { archiveThreads } from './archives/unzip-safely.js';

/** Failed sign-ins counted in Redis when REDIS_URL is set (shared by api replicas), else in this process. */
const failedAttemptsProvider = {
  provide: FailedAttempts,
  inject: [Settings, Clock],
  useFactory: async (settings: Settings, clock: Clock): Promise<FailedAttempts> => {
    if (!settings.REDIS_URL) return new InMemoryFailedAttempts(clock);
    new Logger('AuthThrottle').log('Counting failed sign-ins in Redis');
    // Loaded here, not at import: the embedded mode never needs ioredis.
    const { RedisFailedAttempts } = await import('./auth-throttle/redis-failed-attempts.js');
    return RedisFailedAttempts.connect(settings.REDIS_URL, `${settings.QUEUE_PREFIX}:auth-failures:`);
  },
};

/** Settings (validated at start), clock, id source and the sign-in brakes for every context. */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ isGlobal: true, cache: true, validate: validateSettings, ignoreEnvFile: true })],
  providers: [
    {
      provide: Settings,
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        validateSettings(Object.fromEntries(SETTING_NAMES.map((name) => [name, config.get(name)]))),
    },
    { provide: Clock, useClass: SystemClock },
    { provide: IdGenerator, useClass: UuidGenerator },
    failedAttemptsProvider,
    AuthThrottle,
  ],
  exports: [Settings, Clock, IdGenerator, AuthThrottle],
})
export class PlatformModule implements OnApplicationShutdown {
  /** The warm archive thread (shared by every import that unzips) does not keep the process alive, but is closed. */
  onApplicationShutdown(): Promise<void> {
    return archiveThreads.closeIdle();
  }
}
