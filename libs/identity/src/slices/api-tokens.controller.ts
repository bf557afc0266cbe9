import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import { API_TOKENS, type ApiTokenView } from '../read-models/users/users.projection.js';
import { IssueApiToken, IssueApiTokenDto, IssuedApiTokenDto } from './issue-api-token/issue-api-token.handler.js';
import { RevokeApiToken } from './revoke-api-token/revoke-api-token.handler.js';

export class ApiTokenDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ example: 'dml_AbC123', description: 'The first characters of the token, to recognise it.' })
  prefix: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When it was revoked (it no longer authenticates); null while it works.',
  })
  revokedAt: string | null;
}

export class ApiTokenListDto {
  @ApiProperty({ type: [ApiTokenDto] })
  items: ApiTokenDto[];
}

/** Personal API tokens: issue (shown once), list, revoke. */
@ApiTags('users')
@ApiBearerAuth()
@Controller('v1/users/me/tokens')
export class ApiTokensController {
  constructor(
    private readonly commands: CommandBus,
    private readonly readStore: ReadStore,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ operationId: 'createApiToken', summary: 'Issue a personal API token (shown once)' })
  @ApiCreatedResponse({ type: IssuedApiTokenDto })
  @ApiErrors(400, 401, 422)
  issue(
    @Body() body: IssueApiTokenDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<IssuedApiTokenDto> {
    return this.commands.execute(new IssueApiToken(body.name, { ...context, userId: user.id }));
  }

  @Get()
  @ApiOperation({ operationId: 'listApiTokens', summary: 'List your personal API tokens (without the secrets)' })
  @ApiOkResponse({ type: ApiTokenListDto })
  @ApiErrors(401)
  async list(@CurrentUser() user: AuthenticatedUser): Promise<ApiTokenListDto> {
    const tokens = await this.readStore.collection<ApiTokenView>(API_TOKENS).findAll({ userId: user.id });
    tokens.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return {
      items: tokens.map(({ id, name, prefix, createdAt, revokedAt }) => ({ id, name, prefix, createdAt, revokedAt })),
    };
  }

  @Delete(':tokenId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeApiToken', summary: 'Revoke a personal API token; it stops working at once' })
  @ApiNoContentResponse()
  @ApiErrors(400, 401, 404)
  async revoke(
    @Param('tokenId', UuidParam('tokenId')) tokenId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.commands.execute(new RevokeApiToken(tokenId, { ...context, userId: user.id }));
  }
}
