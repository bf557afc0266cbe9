/** A span of time as a person reads it: 'under 1 s', '42 s', '3 min 5 s', '1 h 12 min'. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  // A tiny run takes a fraction of a second: '0 s' would read as if it never ran.
  if (seconds === 0) return 'under 1 s';
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
  return minutes % 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${Math.floor(minutes / 60)} h`;
}
