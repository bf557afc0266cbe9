import { Global, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AuthThrottle } from './auth-throttle/auth-throttle.js';
import { WindowCounts } from './window-counts/window-counts.port.js';
import { InMemoryWindowCounts } from './window-counts/in-memory-window-counts.js';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Clock, IdGenerator, SystemClock, UuidGenerator } from './domain/clock.js';
import { SETTING_NAMES, Settings, validateSettings } from './config/settings.js';
import { archiveThreads } from './archives/unzip-safely.js';

/**
 * Request counts (failed sign-ins, registrations, predictions) in Redis when REDIS_URL is set, so api replicas share
 * them, else in this process.
 */
const windowCountsProvider = {
  provide: WindowCounts,
  inject: [Settings, Clock],
  useFactory: async (settings: Settings, clock: Clock): Promise<WindowCounts> => {
    if (!settings.REDIS_URL) return new InMemoryWindowCounts(clock);
    new Logger('WindowCounts').log('Counting sign-ins and predictions in Redis');
    // Loaded here, not at import: the embedded mode never needs ioredis.
    const { RedisWindowCounts } = await import('./window-counts/redis-window-counts.js');
    return RedisWindowCounts.connect(settings.REDIS_URL, `${settings.QUEUE_PREFIX}:counts:`);
  },
};

/** Settings (validated at start), clock, id source, request counts and the sign-in brakes for every context. */
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
    windowCountsProvider,
    AuthThrottle,
  ],
  exports: [Settings, Clock, IdGenerator, WindowCounts, AuthThrottle],
})
export class PlatformModule implements OnApplicationShutdown {
  /** The warm archive thread (shared by every import that unzips) does not keep the process alive, but is closed. */
  onApplicationShutdown(): Promise<void> {
    return archiveThreads.closeIdle();
  }
}
