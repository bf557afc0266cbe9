/** The part of evaluation that loads no Nest module (`@diyml/evaluation/pure`): its events. */
export * from './domain/label-suggestions.events.js';
export * from './domain/test-run.events.js';
