import { ApiProperty } from '@nestjs/swagger';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { IdGenerator, type RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { generateApiToken } from '../../auth/api-token.js';
import { userDecider } from '../../domain/user.decider.js';
import { userStream } from '../../domain/user.events.js';

export class IssueApiTokenDto {
  @ApiProperty({ example: 'ci pipeline', minLength: 1, maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name: string;
}

export class IssuedApiTokenDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ description: 'The token itself. Shown once: only its hash is kept.' })
  token: string;
}

export class IssueApiToken extends Command<IssuedApiTokenDto> {
  constructor(
    readonly name: string,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

@CommandHandler(IssueApiToken)
export class IssueApiTokenHandler implements ICommandHandler<IssueApiToken> {
  constructor(
    private readonly pipeline: CommandPipeline,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ name, context }: IssueApiToken): Promise<IssuedApiTokenDto> {
    const tokenId = this.ids.newId();
    const { token, tokenHash, prefix } = generateApiToken();
    await this.pipeline.on(userStream(context.userId), userDecider).run({
      context,
      command: (_, metadata) => ({ type: 'IssueApiToken', tokenId, name, tokenHash, prefix, metadata }),
    });
    return { id: tokenId, name, token };
  }
}
