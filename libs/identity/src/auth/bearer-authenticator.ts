import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { type AuthenticatedUser, AuthThrottle, DomainError } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import {
  API_TOKENS_BY_HASH,
  type ApiTokenHashView,
  USERS,
  type UserView,
} from '../read-models/users/users.projection.js';
import { hashApiToken, looksLikeApiToken } from './api-token.js';

export interface JwtPayload {
  sub: string;
  username: string;
}

/** Stable codes of a refused `Authorization: Bearer …`, each saying what is wrong with the credential. */
export const AuthErrors = {
  MISSING: 'UNAUTHENTICATED',
  MALFORMED_HEADER: 'MALFORMED_AUTHORIZATION',
  TOKEN_MALFORMED: 'TOKEN_MALFORMED',
  TOKEN_INVALID: 'TOKEN_INVALID',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_WITHOUT_EXPIRY: 'TOKEN_WITHOUT_EXPIRY',
  TOKEN_REVOKED: 'TOKEN_REVOKED',
} as const;

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const refused = (code: string, message: string) => DomainError.unauthenticated(code, message);

/**
 * Authenticates `Authorization: Bearer <login JWT | personal token dml_…>`, saying why when it refuses
 * (401 with one of AuthErrors). Guesses (a personal token that does not exist, a JWT with a wrong signature)
 * count as failed sign-ins of the client address: past the limit they are answered 429 (AuthThrottle.refuse).
 */
@Injectable()
export class BearerAuthenticator {
  constructor(
    private readonly jwt: JwtService,
    private readonly readStore: ReadStore,
    private readonly throttle: AuthThrottle,
  ) {}

  async authenticate(authorization: string | undefined, source: string): Promise<AuthenticatedUser> {
    try {
      return await this.identify(authorization);
    } catch (error) {
      if (error instanceof DomainError && error.code === AuthErrors.TOKEN_INVALID)
        throw await this.throttle.refuse({ source }, error);
      throw error;
    }
  }

  /**
   * Whether `authorization` names a live user, counting nothing: the api reads a request's body only when it does
   * (the guard then authenticates it, and counts a refusal, before the route runs).
   */
  accepts(authorization: string | undefined): Promise<boolean> {
    return this.identify(authorization).then(
      () => true,
      () => false,
    );
  }

  private async identify(authorization: string | undefined): Promise<AuthenticatedUser> {
    if (!authorization) {
      throw refused(
        AuthErrors.MISSING,
        'Send `Authorization: Bearer <token>` with a login token or a personal token (dml_…).',
      );
    }
    const token = BEARER.exec(authorization)?.[1];
    if (!token) throw refused(AuthErrors.MALFORMED_HEADER, 'The Authorization header must be `Bearer <token>`.');
    return looksLikeApiToken(token) ? this.personalTokenUser(token) : this.loginTokenUser(token);
  }

  private async personalTokenUser(token: string): Promise<AuthenticatedUser> {
    const entry = await this.readStore.collection<ApiTokenHashView>(API_TOKENS_BY_HASH).get(hashApiToken(token));
    if (!entry) throw refused(AuthErrors.TOKEN_INVALID, 'This personal token does not exist.');
    if (entry.revoked) throw refused(AuthErrors.TOKEN_REVOKED, 'This personal token was revoked: issue a new one.');
    return this.userOf(entry.userId);
  }

  private async loginTokenUser(token: string): Promise<AuthenticatedUser> {
    if (!JWT_SHAPE.test(token)) {
      throw refused(
        AuthErrors.TOKEN_MALFORMED,
        'The token is neither a login token (JWT) nor a personal token (dml_…).',
      );
    }
    let payload: Partial<JwtPayload> & { exp?: unknown };
    try {
      payload = await this.jwt.verifyAsync(token, { algorithms: ['HS256'] });
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'TokenExpiredError')
        throw refused(AuthErrors.TOKEN_EXPIRED, 'The login token has expired: log in again.');
      if (name === 'NotBeforeError') throw refused(AuthErrors.TOKEN_INVALID, 'The login token is not valid yet.');
      if (/malformed|invalid token|unexpected token|json/i.test((error as Error).message ?? '')) {
        throw refused(AuthErrors.TOKEN_MALFORMED, 'The login token cannot be read: log in again.');
      }
      throw refused(AuthErrors.TOKEN_INVALID, 'The login token was not signed by this server.');
    }
    if (typeof payload.exp !== 'number') {
      throw refused(
        AuthErrors.TOKEN_WITHOUT_EXPIRY,
        'The login token has no expiry (exp): log in again for a token that expires.',
      );
    }
    if (typeof payload.sub !== 'string') throw refused(AuthErrors.TOKEN_MALFORMED, 'The login token names no user.');
    return this.userOf(payload.sub);
  }

  private async userOf(userId: string): Promise<AuthenticatedUser> {
    const user = await this.readStore.collection<UserView>(USERS).get(userId);
    if (!user) throw refused(AuthErrors.TOKEN_INVALID, 'The user of this token does not exist.');
    return { id: user.id, username: user.username };
  }
}
