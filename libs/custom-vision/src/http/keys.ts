import type { Request } from 'express';
import type { AuthenticatedUser } from '@diyml/core';
import { API_TOKENS_BY_HASH, type ApiTokenHashView, USERS, type UserView } from '@diyml/identity';
import { hashApiToken, looksLikeApiToken } from '@diyml/identity';
import type { ReadStore } from '@diyml/read-store';

/** The first value of a request header, trimmed; undefined when absent or empty. */
export function headerOf(request: Request, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed ? trimmed : undefined;
}

/** The owner of a personal API token (`dml_…`), or null for anything else or a revoked token. */
export async function userOfPersonalToken(readStore: ReadStore, token: string): Promise<AuthenticatedUser | null> {
  if (!looksLikeApiToken(token)) return null;
  const entry = await readStore.collection<ApiTokenHashView>(API_TOKENS_BY_HASH).get(hashApiToken(token));
  if (!entry || entry.revoked) return null;
  const user = await readStore.collection<UserView>(USERS).get(entry.userId);
  return user ? { id: user.id, username: user.username } : null;
}

export const INVALID_KEY_MESSAGE =
  'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.';

/**
 * Reads a key header and removes it from the request, so the request log (which redacts the api's own key
 * headers) never holds a Custom Vision key.
 */
export function takeKeyHeader(request: Request, name: string): string | undefined {
  const value = headerOf(request, name);
  delete request.headers[name.toLowerCase()];
  return value;
}

/** Whether the request's `Training-Key` names a live personal token (read only: the guard still takes it). */
export async function hasValidTrainingKey(readStore: ReadStore, request: Request): Promise<boolean> {
  const key = headerOf(request, 'training-key');
  return key !== undefined && (await userOfPersonalToken(readStore, key)) !== null;
}
