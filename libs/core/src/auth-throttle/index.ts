export * from './auth-throttle.js';
