export * from './auth/auth.guard.js';
export * from './identity.module.js';
export * from './read-models/users/users.projection.js';
export * from './domain/user.upcasters.js';
