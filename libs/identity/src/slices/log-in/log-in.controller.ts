import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors, AuthThrottle, DomainError, type HttpRequest, Settings } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import { Public } from '../../auth/auth.guard.js';
import { PasswordHasher } from '../../auth/password-hasher.js';
import type { JwtPayload } from '../../auth/bearer-authenticator.js';
import { USERNAMES, USERS, type UsernameView, type UserView } from '../../read-models/users/users.projection.js';
import { CredentialsDto } from '../register-user/register-user.dto.js';

export class AccessTokenDto {
  @ApiProperty({ description: 'JWT to send as `Authorization: Bearer <accessToken>`.' })
  accessToken: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType: 'Bearer';

  @ApiProperty({ example: 3600, description: 'Seconds until the token expires.' })
  expiresIn: number;
}

@ApiTags('auth')
@Controller('v1/auth')
export class LogInController {
  constructor(
    private readonly readStore: ReadStore,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly settings: Settings,
    private readonly throttle: AuthThrottle,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ operationId: 'logIn', summary: 'Exchange a username and password for an access token' })
  @ApiOkResponse({ type: AccessTokenDto })
  @ApiErrors(400, 401, 429, 503)
  async logIn(@Body() { username, password }: CredentialsDto, @Req() request: HttpRequest): Promise<AccessTokenDto> {
    // Counted per account and per address: 429 TOO_MANY_FAILED_ATTEMPTS before the password is even checked.
    const subjects = { source: String(request.ip), account: `user:${username.toLowerCase()}` };
    await this.throttle.assertAllowed(subjects);
    const entry = await this.readStore.collection<UsernameView>(USERNAMES).get(username.toLowerCase());
    const user = entry && (await this.readStore.collection<UserView>(USERS).get(entry.userId));
    const valid = user
      ? await this.hasher.verify(user.passwordHash, password)
      : await this.hasher.verifyAgainstNothing(password);
    if (!user || !valid) {
      await this.throttle.recordFailure(subjects);
      throw DomainError.unauthenticated('INVALID_CREDENTIALS', 'Wrong username or password.');
    }
    await this.throttle.recordSuccess(subjects);
    const payload: JwtPayload = { sub: user.id, username: user.username };
    const expiresIn = this.settings.JWT_EXPIRES_IN_SECONDS;
    return { accessToken: await this.jwt.signAsync(payload, { expiresIn }), tokenType: 'Bearer', expiresIn };
  }
}
