/**
 * The part of audit that loads no Nest module (`@diyml/audit/pure`): datasets uses time travel through it, as
 * audit's slices import datasets (a cycle through both indexes fails at load).
 */
export * from './time-travel.js';
