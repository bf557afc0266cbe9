export * from './time-travel.js';
