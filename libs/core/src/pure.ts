/**
 * The part of core that loads neither Nest nor HTTP code (`@diyml/core/pure`): deciders, events and libs/ml
 * import it so they stay plain TypeScript and load fast. `@diyml/core` re-exports all of it.
 */
export * from './domain/clock.js';
export * from './domain/decider.js';
export * from './domain/domain-error.js';
export * from './domain/metadata.js';
export * from './domain/plain-text.js';
export * from './domain/validation-message.js';
// File-name rules are plain string checks, though HTTP uploads are their first user.
export * from './http/file-names.js';
export * from './worker-thread.js';
export * from './process-wide-gate.js';
export * from './dependency-unreachable.js';
export * from './event-loop-slices.js';
export * from './map-concurrently.js';
export * from './archives/archive-inflation.js';
export * from './archives/unzip-safely.js';
export * from './archives/zip-archive.js';
