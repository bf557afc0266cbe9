import { createSecretKey } from 'node:crypto';
import { Module, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { JwtModule } from '@nestjs/jwt';
import { Settings } from '@diyml/core';
import { Upcasters } from '@diyml/event-store';
import { BearerAuthGuard } from './auth/auth.guard.js';
import { BearerAuthenticator } from './auth/bearer-authenticator.js';
import { resolveJwtSecret } from './auth/jwt-secret.js';
import { PasswordHasher } from './auth/password-hasher.js';
import { PasswordPolicy } from './auth/password-policy.js';
import { identityUpcasters } from './domain/user.upcasters.js';
import { UsersProjection } from './read-models/users/users.projection.js';
import { ApiTokensController } from './slices/api-tokens.controller.js';
import { GetCurrentUserController } from './slices/get-current-user/get-current-user.controller.js';
import { IssueApiTokenHandler } from './slices/issue-api-token/issue-api-token.handler.js';
import { LogInController } from './slices/log-in/log-in.controller.js';
import { RegisterUserController } from './slices/register-user/register-user.controller.js';
import { RegisterUserHandler } from './slices/register-user/register-user.handler.js';
import { RevokeApiTokenHandler } from './slices/revoke-api-token/revoke-api-token.handler.js';

/** Users, login (JWT) and personal API tokens; installs the global bearer-auth guard. */
@Module({
  imports: [
    CqrsModule,
    JwtModule.registerAsync({
      inject: [Settings],
      useFactory: async (settings: Settings) => ({
        // A key object made once: given the string, jsonwebtoken tries it as a public key (and throws) then makes
        // a secret key from it at every sign and verify, ~70 µs of each authenticated request.
        secret: createSecretKey(Buffer.from(await resolveJwtSecret(settings))),
        signOptions: { algorithm: 'HS256' },
      }),
    }),
  ],
  controllers: [RegisterUserController, LogInController, GetCurrentUserController, ApiTokensController],
  providers: [
    PasswordHasher,
    PasswordPolicy,
    BearerAuthenticator,
    UsersProjection,
    RegisterUserHandler,
    IssueApiTokenHandler,
    RevokeApiTokenHandler,
    { provide: APP_GUARD, useClass: BearerAuthGuard },
  ],
})
export class IdentityModule implements OnModuleInit {
  constructor(private readonly upcasters: Upcasters) {}

  onModuleInit(): void {
    for (const upcaster of identityUpcasters) this.upcasters.register(upcaster);
  }
}
