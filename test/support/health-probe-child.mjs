// Asks GET <url> every 50 ms on a new connection, from its own process, until told to stop; then reports the
// slowest answer. Its clock and timers run apart from the api's event loop, so a frozen api shows as a slow answer
// even when the test process (where the api runs) is the one holding the loop.
import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const url = process.argv[2];
let stopping = false;
process.on('message', (message) => {
  if (message === 'stop') stopping = true;
});

function probe() {
  const started = performance.now();
  return new Promise((resolve) => {
    const request = get(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, ms: performance.now() - started }));
    });
    request.on('error', (error) => resolve({ status: 0, error: error.message, ms: performance.now() - started }));
  });
}

let slowestMs = 0;
let probes = 0;
const failures = [];
process.send({ ready: true });
while (!stopping) {
  const answer = await probe();
  slowestMs = Math.max(slowestMs, answer.ms);
  probes += 1;
  if (answer.status !== 200 && failures.length < 5) failures.push(`${answer.status} ${answer.error ?? ''}`.trim());
  await sleep(50);
}
process.send({ slowestMs, probes, failures }, () => process.disconnect());
