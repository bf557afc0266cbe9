import { CommandHandler, Command, type ICommandHandler } from '@nestjs/cqrs';
import {
  Clock,
  commandMetadata,
  DomainError,
  IdGenerator,
  isDomainError,
  type RequestContext,
  Settings,
  toEventMetadata,
} from '@diyml/core';
import { decideAndAppend, EventStore, WRONG_EXPECTED_REVISION } from '@diyml/event-store';
import { ProjectionRunner } from '@diyml/read-store';
import { PasswordHasher } from '../../auth/password-hasher.js';
import { PasswordPolicy } from '../../auth/password-policy.js';
import { userDecider } from '../../domain/user.decider.js';
import { usernameStream, userStream } from '../../domain/user.events.js';
import type { RegisteredUserDto } from './register-user.dto.js';

export class RegisterUser extends Command<RegisteredUserDto> {
  constructor(
    readonly username: string,
    readonly password: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}

@CommandHandler(RegisterUser)
export class RegisterUserHandler implements ICommandHandler<RegisterUser> {
  constructor(
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly settings: Settings,
  ) {}

  async execute({ username, password, context }: RegisterUser): Promise<RegisteredUserDto> {
    this.policy.assertStrong(password);
    const userId = this.ids.newId();
    const metadata = commandMetadata({ ...context, userId }, this.clock.now());
    await this.claimUsername(username, userId, metadata);
    const passwordHash = await this.hasher.hash(password);
    const result = await decideAndAppend(
      this.events,
      userStream(userId),
      userDecider,
      { type: 'RegisterUser', userId, username, passwordHash, metadata },
      metadata,
    );
    await this.projections.waitFor(result.position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
    return { id: userId, username };
  }

  /** The username stream can be created once: that is what makes usernames unique, case-insensitively. */
  private async claimUsername(username: string, userId: string, metadata: ReturnType<typeof commandMetadata>) {
    try {
      await this.events.append(
        usernameStream(username),
        [{ type: 'UsernameClaimed', v: 1, data: { username, userId } }],
        { expectedRevision: 'no_stream', metadata: toEventMetadata(metadata) },
      );
    } catch (error) {
      if (isDomainError(error, WRONG_EXPECTED_REVISION)) {
        throw DomainError.conflict('USERNAME_TAKEN', `The username "${username}" is taken: choose another.`);
      }
      throw error;
    }
  }
}
