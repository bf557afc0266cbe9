import { parentPort, workerData } from 'node:worker_threads';

const doubled: number = (workerData as { value: number }).value * 2;
parentPort!.postMessage(doubled);
