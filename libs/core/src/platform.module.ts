import { Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Clock, IdGenerator, SystemClock, UuidGenerator } from './domain/clock.js';
import { SETTING_NAMES, Settings, validateSettings } from './config/settings.js';

/** Settings (validated at start), clock and id source for every context. */
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
  ],
  exports: [Settings, Clock, IdGenerator],
})
export class PlatformModule {}
