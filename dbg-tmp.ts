import { readFileSync } from 'node:fs';
import { inspectVideo, extractFrames } from './libs/datasets/src/slices/upload-video/video-frames.js';
for (const f of ['/tmp/media/t.mp4', '/tmp/media/t.webm']) {
  const b = new Uint8Array(readFileSync(f));
  console.log(await inspectVideo(b));
  const frames = await extractFrames(b, 2, 100);
  console.log(frames.map((x) => `${x.timestampMs}:${x.png.length}`).join(' '));
  try { await inspectVideo(b.subarray(0, b.length / 2)); console.log('half ok?'); } catch (e) { console.log((e as any).code, (e as Error).message); }
}
try { await inspectVideo(new Uint8Array(Buffer.from('not a video'))); } catch (e) { console.log((e as any).code, (e as Error).message); }
