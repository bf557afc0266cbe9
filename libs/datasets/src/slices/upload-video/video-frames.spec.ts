import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { extractFrames, inspectVideo } from './video-frames.js';

const run = promisify(execFile);

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'video-frames-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A portrait phone video: its pixels stored 32×24 (landscape) and a rotation of 90° in its metadata, as phones record. */
async function portraitPhoneVideo(): Promise<string> {
  const stored = join(folder, 'stored.mp4');
  const rotated = join(folder, 'portrait.mp4');
  const ffmpeg = (args: string[]) => run(ffmpegInstaller.path, ['-v', 'error', ...args]);
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=1:size=32x24:rate=10',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    stored,
  ]);
  await ffmpeg(['-i', stored, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
  return rotated;
}

describe('video frames', () => {
  it('gives a portrait phone video the upright size its frames have', async () => {
    const video = await portraitPhoneVideo();
    const [frame] = await extractFrames(video, 1, 1);
    const { width, height } = await sharp(frame.png).metadata();
    expect({ width, height }).toEqual({ width: 24, height: 32 });
    expect(await inspectVideo(video)).toMatchObject({ width: 24, height: 32 });
  });
});
