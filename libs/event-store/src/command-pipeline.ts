import { Injectable, Optional } from '@nestjs/common';
import {
  Clock,
  type CommandMetadata,
  commandMetadata,
  type Decider,
  type DomainEvent,
  type RequestContext,
  Settings,
} from '@diyml/core';
import { type CommandOutcome, type CommandRequest, handleCommand } from './command-handling.js';
import { EventStore } from './event-store.port.js';

/**
 * Read-your-writes: resolves once the read models have applied a log position. Bound where read models run
 * (the api); a process without them (the worker) has nothing to wait for.
 */
export abstract class ReadModelsProgress {
  abstract waitFor(position: number, timeoutMs: number): Promise<void>;
}

/** Who asks and in which request; a job adds the event that caused it, a request writing several streams one time. */
export type CommandContext = RequestContext & { readonly causationId?: string; readonly now?: Date };

export interface PipelineCommand<TState, TCommand> extends Omit<
  CommandRequest<TState, TCommand, DomainEvent>,
  'metadata' | 'streamId' | 'decider'
> {
  readonly context: CommandContext;
  /** Wait (bounded) until the read models show the change; default true. Jobs and intermediate claims pass false. */
  readonly waitForReadModels?: boolean;
}

export interface PipelineOutcome<TState, TEvent extends DomainEvent> extends CommandOutcome<TState, TEvent> {
  readonly metadata: CommandMetadata;
}

export interface StreamCommands<TState, TCommand, TEvent extends DomainEvent> {
  run(request: PipelineCommand<TState, TCommand>): Promise<PipelineOutcome<TState, TEvent>>;
}

/**
 * The one way handlers, jobs and writers change a stream: metadata from the clock and the request, load,
 * decide, append with the revision read (or the client's If-Match), a bounded retry where the command is
 * declared safe to retry, then the read-your-writes wait.
 */
@Injectable()
export class CommandPipeline {
  constructor(
    private readonly events: EventStore,
    private readonly clock: Clock,
    private readonly settings: Settings,
    @Optional() private readonly readModels?: ReadModelsProgress,
  ) {}

  /**
   * Commands on one stream, decided by `decider`. Binding the decider first fixes the command type before a
   * command literal is checked, so its `type` stays a literal.
   */
  on<TState, TCommand, TEvent extends DomainEvent>(
    streamId: string,
    decider: Decider<TState, TCommand, TEvent>,
  ): StreamCommands<TState, TCommand, TEvent> {
    return {
      run: async ({ context, waitForReadModels = true, ...rest }) => {
        const metadata = commandMetadata(context, context.now ?? this.clock.now(), context.causationId);
        const outcome = await handleCommand(this.events, { ...rest, streamId, decider, metadata });
        if (waitForReadModels) await this.waitFor(outcome.position);
        return { ...outcome, metadata };
      },
    };
  }

  /** Read-your-writes for a request that appended through several runs: wait once, for the last position. */
  async waitFor(position: number): Promise<void> {
    if (position < 0) return;
    await this.readModels?.waitFor(position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
  }
}
