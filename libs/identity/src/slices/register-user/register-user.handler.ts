import { CommandHandler, Command, type ICommandHandler } from '@nestjs/cqrs';
import { Clock, IdGenerator, type RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { PasswordHasher } from '../../auth/password-hasher.js';
import { PasswordPolicy } from '../../auth/password-policy.js';
import { userDecider } from '../../domain/user.decider.js';
import { usernameClaimDecider } from '../../domain/username-claim.decider.js';
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
    private readonly pipeline: CommandPipeline,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ username, password, context }: RegisterUser): Promise<RegisteredUserDto> {
    this.policy.assertStrong(password);
    const userId = this.ids.newId();
    const registration = { ...context, userId, now: this.clock.now() };
    // The username stream is per lower-cased name: its decider makes usernames unique, case-insensitively. A
    // concurrent claim is decided again, so the loser hears USERNAME_TAKEN.
    await this.pipeline.on(usernameStream(username), usernameClaimDecider).run({
      context: registration,
      command: { type: 'ClaimUsername', username, userId },
      retry: { attempts: 2 },
      waitForReadModels: false,
    });
    const passwordHash = await this.hasher.hash(password);
    await this.pipeline.on(userStream(userId), userDecider).run({
      context: registration,
      command: (_, metadata) => ({ type: 'RegisterUser', userId, username, passwordHash, metadata }),
    });
    return { id: userId, username };
  }
}
