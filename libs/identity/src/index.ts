export * from './auth/auth.guard.js';
export { BearerAuthenticator } from './auth/bearer-authenticator.js';
export * from './identity.module.js';
export * from './read-models/users/users.projection.js';
export * from './domain/user.upcasters.js';
export { AUTH_JSON_MAX_BYTES, AUTH_ROUTES_PATH } from './slices/register-user/register-user.dto.js';
export { hashApiToken, looksLikeApiToken } from './auth/api-token.js';
export { USER_EVENT_TYPES } from './domain/user.events.js';
