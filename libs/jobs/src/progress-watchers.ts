/** Who watches each job's progress, by `queue:id`, for an adapter to tell as reports come; a job without watchers has no entry. */
export class ProgressWatchers<Watcher extends (...report: never[]) => void> {
  private readonly byJob = new Map<string, Set<Watcher>>();

  /** Adds `watcher` to the job's; returns what removes it again. */
  add(key: string, watcher: Watcher): () => void {
    const watchers = this.byJob.get(key) ?? new Set();
    watchers.add(watcher);
    this.byJob.set(key, watchers);
    return () => {
      watchers.delete(watcher);
      if (watchers.size === 0 && this.byJob.get(key) === watchers) this.byJob.delete(key);
    };
  }

  /** The job's watchers now. */
  of(key: string): Iterable<Watcher> {
    return this.byJob.get(key) ?? [];
  }

  /** How many are subscribed, over all jobs. */
  count(): number {
    return [...this.byJob.values()].reduce((count, watchers) => count + watchers.size, 0);
  }
}
