import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { userDecider } from '../../domain/user.decider.js';
import { userStream } from '../../domain/user.events.js';

export class RevokeApiToken extends Command<void> {
  constructor(
    readonly tokenId: string,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

@CommandHandler(RevokeApiToken)
export class RevokeApiTokenHandler implements ICommandHandler<RevokeApiToken> {
  constructor(private readonly pipeline: CommandPipeline) {}

  async execute({ tokenId, context }: RevokeApiToken): Promise<void> {
    await this.pipeline.on(userStream(context.userId), userDecider).run({
      context,
      command: (_, metadata) => ({ type: 'RevokeApiToken', tokenId, metadata }),
    });
  }
}
