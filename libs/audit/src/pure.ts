/**
 * The part of audit that loads no Nest module (`@diyml/audit/pure`): datasets uses time travel through it, as
 * audit's slices import datasets (a cycle through both indexes fails at load).
 */
export * from './time-travel.js';
export * from './whole-project-reads.js';
export { blobEntry, eventsEntry, MANIFEST_ENTRY } from './slices/export-project/project-archive.js';
export { ZipWriter } from './slices/export-project/zip-writer.js';
