import { randomUUID } from 'node:crypto';

/** Time source, injected so tests and replays control it. */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** Id source, injected so tests can predict ids. */
export abstract class IdGenerator {
  abstract newId(): string;
}

export class UuidGenerator extends IdGenerator {
  newId(): string {
    return randomUUID();
  }
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
