import { ApiProperty } from '@nestjs/swagger';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { Clock, commandMetadata, IdGenerator, type RequestContext, Settings } from '@diyml/core';
import { decideAndAppend, EventStore } from '@diyml/event-store';
import { ProjectionRunner } from '@diyml/read-store';
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
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly settings: Settings,
  ) {}

  async execute({ name, context }: IssueApiToken): Promise<IssuedApiTokenDto> {
    const tokenId = this.ids.newId();
    const { token, tokenHash, prefix } = generateApiToken();
    const metadata = commandMetadata(context, this.clock.now());
    const result = await decideAndAppend(
      this.events,
      userStream(context.userId),
      userDecider,
      { type: 'IssueApiToken', tokenId, name, tokenHash, prefix, metadata },
      metadata,
    );
    await this.projections.waitFor(result.position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
    return { id: tokenId, name, token };
  }
}
