import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import { getSession, setSession } from './session';

export type Schemas = components['schemas'];
export type Project = Schemas['ProjectDto'];
export type Image = Schemas['ImageDto'];
export type Iteration = Schemas['IterationDto'];
export type BatchProgress = Schemas['BatchProgressDto'];
export type PreparationProgress = Schemas['PreparationProgressDto'];
export type Label = Schemas['LabelDto'];
export type ProjectLabel = Schemas['ProjectLabelDto'];
export type Backbone = Schemas['BackboneDto'];
export type Region = Schemas['RegionInputDto'];

/** The API's error body `{ statusCode, code, message, details? }`, as an Error the screens can show. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const authorize: Middleware = {
  onRequest({ request }) {
    const session = getSession();
    if (session && !request.headers.has('Authorization'))
      request.headers.set('Authorization', `Bearer ${session.accessToken}`);
    return request;
  },
  onResponse({ response, request }) {
    // An expired login: back to the login screen (a failed login itself is a 401 without a session).
    if (response.status === 401 && request.headers.has('Authorization') && getSession()) setSession(null);
    return response;
  },
};

/** The typed client generated from the api's OpenAPI document (apps/console/src/api/schema.d.ts). */
// TanStack Query does the caching and decides when to read again; a second cache in the browser would only add revalidations.
export const api = createClient<paths>({ baseUrl: window.location.origin, cache: 'no-store' });
api.use(authorize);

/** The data of an openapi-fetch result, or an ApiError carrying the server's code and message. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) throw toApiError(result.response, result.error);
  return result.data as T;
}

export function toApiError(response: Response, body: unknown): ApiError {
  const error = (body ?? {}) as {
    code?: string;
    message?: string | string[];
    details?: unknown;
    problemCount?: number;
  };
  const message =
    fieldProblems(error.details, error.problemCount) ??
    (Array.isArray(error.message) ? error.message.join('; ') : error.message);
  return new ApiError(
    response.status,
    error.code ?? `HTTP_${response.status}`,
    message ?? unexplained(response),
    error.details,
  );
}

type FieldError = Schemas['FieldErrorDto'];

/**
 * A VALIDATION_FAILED answer told by its fields' problems alone: the message's opening count ("The request has 1
 * invalid field.") speaks of the request, which a user filling in a form never sees.
 */
function fieldProblems(details: unknown, problemCount: number | undefined): string | undefined {
  if (!Array.isArray(details) || details.length === 0) return undefined;
  const problems = (details as FieldError[]).flatMap((field) => field.errors).map(asSentence);
  // problemCount counts the invalid fields; details lists the first of them.
  const unlisted = (problemCount ?? details.length) - details.length;
  return [...problems, ...(unlisted > 0 ? [`And ${unlisted} more fields to fix.`] : [])].join(' ');
}

const asSentence = (text: string) => (/[.!?…]$/.test(text) ? text : `${text}.`);

/**
 * A refusal of a file sent as the request's body (a quick test, a deployment's Try it): the API sees bytes, not a
 * file, so a file that is no usable picture is named, with why and which photos are taken. `nameEvery`: other
 * refusals are told with the file's name too.
 */
export function refusedFile(fileName: string, response: Response, body: unknown, nameEvery: boolean): ApiError {
  const refused = toApiError(response, body);
  const { reason, accepted } = (refused.details ?? {}) as { reason?: unknown; accepted?: unknown };
  if (refused.code === 'INVALID_IMAGE' && typeof reason === 'string' && typeof accepted === 'string') {
    const message = `${fileName}: this file cannot be used, ${reason}. Choose a photo in ${accepted}.`;
    return new ApiError(refused.status, refused.code, message, refused.details);
  }
  return nameEvery
    ? new ApiError(refused.status, refused.code, `${fileName}: ${refused.message}`, refused.details)
    : refused;
}

/** An answer without the API's error body (a proxy's HTML page, an empty 502): say what happened and what to try. */
function unexplained(response: Response): string {
  const answer = `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  if (response.status === 413) return `${answer}: the file is larger than it accepts. Send a smaller one.`;
  if (response.status >= 500)
    return `${answer} without saying why. Try again in a moment; if it keeps failing, ask whoever runs this server.`;
  return `${answer} without saying why. Check what you sent and try again.`;
}

/** The server's message already says what to fix (validation errors name each field). */
export function errorMessage(error: unknown): string {
  // No answer at all: the browser's own words ('Failed to fetch', 'Load failed') say nothing a user can act on.
  if (error instanceof TypeError && /fetch|network|load failed/i.test(error.message))
    return 'The server could not be reached. Check your connection and try again.';
  return error instanceof Error ? error.message : String(error);
}

export function getSessionHeaders(): Record<string, string> {
  const session = getSession();
  return session ? { Authorization: `Bearer ${session.accessToken}` } : {};
}

/** Authenticated bytes (images, thumbnails) as a data: URL, which the page's Content-Security-Policy allows. */
export async function fetchDataUrl(path: string): Promise<string> {
  const response = await fetch(path, { headers: getSessionHeaders() });
  if (!response.ok) throw toApiError(response, await response.json().catch(() => undefined));
  const blob = await response.blob();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}
