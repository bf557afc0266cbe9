/** The part of identity that loads no Nest module (`@diyml/identity/pure`): its events and upcasters. */
export * from './domain/user.upcasters.js';
export { USER_EVENT_TYPES } from './domain/user.events.js';
