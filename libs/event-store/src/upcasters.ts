import type { RecordedEvent } from './event-store.port.js';

/** Turns the stored shape of version `fromVersion` of an event type into the shape of the next version. */
export interface Upcaster {
  readonly type: string;
  readonly fromVersion: number;
  upcast(data: unknown, event: RecordedEvent): unknown;
}

/**
 * Applied by every adapter on read, so the domain only ever sees the newest shape of an event while the
 * log keeps what was written.
 */
export class Upcasters {
  private readonly byKey = new Map<string, Upcaster>();

  constructor(upcasters: readonly Upcaster[] = []) {
    for (const upcaster of upcasters) this.register(upcaster);
  }

  register(upcaster: Upcaster): void {
    this.byKey.set(`${upcaster.type}@${upcaster.fromVersion}`, upcaster);
  }

  apply(event: RecordedEvent): RecordedEvent {
    let current = event;
    for (;;) {
      const upcaster = this.byKey.get(`${current.type}@${current.v}`);
      if (!upcaster) return current;
      current = { ...current, v: current.v + 1, data: upcaster.upcast(current.data, current) };
    }
  }
}
