/**
 * Nest's shutdown hooks stop taking work, finish or hand back jobs and close every store; should one never finish,
 * the process still exits, saying what was left open. The timer does not keep the process alive itself.
 */
export function exitOnSignalIfStillClosingAfter(appName: string, seconds: number): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      setTimeout(() => {
        const open = process.getActiveResourcesInfo().join(', ');
        console.error(
          `The ${appName}'s shutdown did not finish within ${seconds} s (SHUTDOWN_TIMEOUT_SECONDS); still open: ${open}. Exiting.`,
        );
        process.exit(1);
      }, seconds * 1000).unref();
    });
}
