import { parentPort, workerData } from 'node:worker_threads';
import { ProcessWideGate } from '../process-wide-gate.js';
import { GateMeter, type GateRunsCommand, type GateRunsWorkerData } from './gate-meter.js';

/**
 * Runs of a process-wide gate on a thread of their own, as a test asks them: `hold` runs a weight until `release`
 * comes, `churn` runs many weights four at a time, each for a few turns of the event loop. Every run is counted in
 * the shared meter while it holds its room.
 */
const { gateName, capacity, meter } = workerData as GateRunsWorkerData;
const gate = ProcessWideGate.named(gateName, capacity);
const counted = new GateMeter(meter);
const releases = new Map<string, () => void>();

parentPort!.on('message', (command: GateRunsCommand) => {
  if (command.kind === 'release') releases.get(command.id)?.();
  else if (command.kind === 'hold') {
    void gate.run(
      () => counted.during(command.weight, () => new Promise<void>((resolve) => releases.set(command.id, resolve))),
      {
        weight: command.weight,
      },
    );
    parentPort!.postMessage({ asked: command.id });
  } else
    void counted.churn(gate, command.weights).then(() => parentPort!.postMessage({ churned: command.weights.length }));
});
parentPort!.postMessage({ ready: true });
