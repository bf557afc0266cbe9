import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import type { FromHeicThread, ToHeicThread } from './heic-conversion.js';

interface HeicImage {
  width: number;
  height: number;
  decode(): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}
/** heic-decode (libheif-js in wasm) ships no types: its `all` reads the images' sizes before decoding any. */
const decodeHeic = createRequire(import.meta.url)('heic-decode') as {
  all(input: { buffer: Uint8Array }): Promise<HeicImage[] & { dispose(): void }>;
};

/**
 * Decodes HEIC photos off the event loop (libheif decodes synchronously, ~1 s for 12 MP), one per message, answering
 * each once with upright RGBA pixels (libheif applies the file's rotation and mirroring), moved back, not copied.
 */
const port = parentPort!;

port.on('message', async ({ bytes, maxPixels }: ToHeicThread) => {
  let answer: FromHeicThread;
  const transfer: ArrayBuffer[] = [];
  try {
    const images = await decodeHeic.all({ buffer: bytes });
    try {
      const [primary] = images;
      if (primary.width * primary.height > maxPixels) {
        answer = { type: 'too-large', width: primary.width, height: primary.height };
      } else {
        const { width, height, data } = await primary.decode();
        transfer.push(data.buffer as ArrayBuffer);
        answer = { type: 'decoded', width, height, rgba: new Uint8Array(data.buffer) };
      }
    } finally {
      images.dispose();
    }
  } catch (error) {
    answer = { type: 'failed', message: String((error as Error).message ?? error) };
  }
  port.postMessage(answer, transfer);
});
