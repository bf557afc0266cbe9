import { Global, Module } from '@nestjs/common';

/**
 * Present (true) in a process that must not change anything: `npm run replay -- --verify`. Whatever runs on
 * start and writes (projections catching up and saving checkpoints, reactors, job runners, clean-ups) checks
 * it with `@Optional() @Inject(READ_ONLY_PROCESS)` and stays still.
 */
export const READ_ONLY_PROCESS = Symbol('READ_ONLY_PROCESS');

/** Import it beside AppModule to boot the app read-only. */
@Global()
@Module({ providers: [{ provide: READ_ONLY_PROCESS, useValue: true }], exports: [READ_ONLY_PROCESS] })
export class ReadOnlyProcessModule {}
