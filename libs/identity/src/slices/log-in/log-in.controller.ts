import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors, DomainError, Settings } from '../../../../core/src/index.js';
import { ReadStore } from '../../../../read-store/src/index.js';
import { Public } from '../../auth/auth.guard.js';
import { PasswordHasher } from '../../auth/password-hasher.js';
import type { JwtPayload } from '../../auth/strategies.js';
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
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a username and password for an access token' })
  @ApiOkResponse({ type: AccessTokenDto })
  @ApiErrors(400, 401)
  async logIn(@Body() { username, password }: CredentialsDto): Promise<AccessTokenDto> {
    const entry = await this.readStore.collection<UsernameView>(USERNAMES).get(username.toLowerCase());
    const user = entry && (await this.readStore.collection<UserView>(USERS).get(entry.userId));
    const valid = user
      ? await this.hasher.verify(user.passwordHash, password)
      : await this.hasher.verifyAgainstNothing(password);
    if (!user || !valid) {
      throw DomainError.unauthenticated('INVALID_CREDENTIALS', 'Wrong username or password.');
    }
    const payload: JwtPayload = { sub: user.id, username: user.username };
    const expiresIn = this.settings.JWT_EXPIRES_IN_SECONDS;
    return { accessToken: await this.jwt.signAsync(payload, { expiresIn }), tokenType: 'Bearer', expiresIn };
  }
}
