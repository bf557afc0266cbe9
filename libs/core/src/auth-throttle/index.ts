export * from './auth-throttle.js';
export * from './failed-attempts.port.js';
export * from './in-memory-failed-attempts.js';
export * from './redis-failed-attempts.js';
