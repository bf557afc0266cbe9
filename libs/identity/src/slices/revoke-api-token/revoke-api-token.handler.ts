import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock, commandMetadata, type RequestContext, Settings } from '@diyml/core';
import { decideAndAppend, EventStore } from '@diyml/event-store';
import { ProjectionRunner } from '@diyml/read-store';
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
  constructor(
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly clock: Clock,
    private readonly settings: Settings,
  ) {}

  async execute({ tokenId, context }: RevokeApiToken): Promise<void> {
    const metadata = commandMetadata(context, this.clock.now());
    const result = await decideAndAppend(
      this.events,
      userStream(context.userId),
      userDecider,
      { type: 'RevokeApiToken', tokenId, metadata },
      metadata,
    );
    await this.projections.waitFor(result.position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
  }
}
