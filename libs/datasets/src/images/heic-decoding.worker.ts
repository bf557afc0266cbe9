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

/**
 * libheif-js says why a photo failed to decode with console.log, which a thread writes to the process's stdout, the
 * logs' stream: what it said last is kept instead, and is the answer's message when the photo fails.
 */
let decoderSaid: string | undefined;
console.log = (...parts: unknown[]) => {
  decoderSaid = parts.map(wordsOf).filter(Boolean).join(': ');
};

/** A part of libheif-js's line as words: a text, or an error's message (the image handle it names has none). */
function wordsOf(part: unknown): string {
  const words = typeof part === 'string' ? part : (part as { message?: unknown } | null)?.message;
  return typeof words === 'string' ? words.trim() : '';
}

port.on('message', async ({ bytes, maxPixels }: ToHeicThread) => {
  let answer: FromHeicThread;
  decoderSaid = undefined;
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
    answer = { type: 'failed', message: decoderSaid || String((error as Error).message ?? error) };
  }
  port.postMessage(answer, transfer);
});
