import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, CurrentUser, DomainError } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import { USERS, type UserView } from '../../read-models/users/users.projection.js';

export class CurrentUserDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'ada' })
  username: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

@ApiTags('users')
@ApiBearerAuth()
@Controller('v1/users/me')
export class GetCurrentUserController {
  constructor(private readonly readStore: ReadStore) {}

  @Get()
  @ApiOperation({ operationId: 'getCurrentUser', summary: 'The authenticated user' })
  @ApiOkResponse({ type: CurrentUserDto })
  @ApiErrors(401)
  async me(@CurrentUser() caller: AuthenticatedUser): Promise<CurrentUserDto> {
    const user = await this.readStore.collection<UserView>(USERS).get(caller.id);
    if (!user) throw DomainError.notFound('USER_NOT_FOUND', 'The user does not exist.');
    return { id: user.id, username: user.username, createdAt: user.createdAt };
  }
}
