import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { ExtractJwt, Strategy as JwtStrategyBase } from 'passport-jwt';
import { type AuthenticatedUser, Settings } from '../../../core/src/index.js';
import { ReadStore } from '../../../read-store/src/index.js';
import { API_TOKENS_BY_HASH, type ApiTokenHashView, USERS, type UserView } from '../read-models/users/users.projection.js';
import { hashApiToken, looksLikeApiToken } from './api-token.js';
import { resolveJwtSecret } from './jwt-secret.js';

export interface JwtPayload {
  sub: string;
  username: string;
}

/** `Authorization: Bearer <login JWT>`. */
@Injectable()
export class JwtStrategy extends PassportStrategy(JwtStrategyBase, 'jwt') {
  constructor(
    settings: Settings,
    private readonly readStore: ReadStore,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: resolveJwtSecret(settings),
      algorithms: ['HS256'],
    });
  }

  async validate(payload: JwtPayload): Promise<AuthenticatedUser | false> {
    const user = await this.readStore.collection<UserView>(USERS).get(payload.sub);
    return user ? { id: user.id, username: user.username } : false;
  }
}

/** `Authorization: Bearer dml_…`: a personal API token, valid until revoked. */
@Injectable()
export class ApiTokenStrategy extends PassportStrategy(BearerStrategy, 'api-token') {
  constructor(private readonly readStore: ReadStore) {
    super();
  }

  async validate(token: string): Promise<AuthenticatedUser | false> {
    if (!looksLikeApiToken(token)) return false;
    const entry = await this.readStore.collection<ApiTokenHashView>(API_TOKENS_BY_HASH).get(hashApiToken(token));
    if (!entry || entry.revoked) return false;
    const user = await this.readStore.collection<UserView>(USERS).get(entry.userId);
    return user ? { id: user.id, username: user.username } : false;
  }
}
