import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A tiny test video made by ffmpeg itself (a lavfi source, 32×24 pixels at 10 frames a second unless `size` says
 * otherwise), so no binary fixture is kept: `testsrc` gives moving frames (each extracted frame has other bytes),
 * `color=c=red` still ones; a filter graph (with `;`) is used as it is.
 */
export async function makeVideo(
  source: string,
  seconds: number,
  extension: 'mp4' | 'webm' | 'mov' | 'avi' = 'mp4',
  size = '32x24',
): Promise<Buffer> {
  const folder = mkdtempSync(join(tmpdir(), 'diyml-video-test-'));
  try {
    const path = join(folder, `video.${extension}`);
    const codec =
      extension === 'webm'
        ? ['-c:v', 'libvpx']
        : extension === 'avi'
          ? ['-c:v', 'mpeg4']
          : ['-c:v', 'libx264', '-pix_fmt', 'yuv420p'];
    const input = source.includes(';')
      ? source
      : `${source}${source.includes('=') ? ':' : '='}duration=${seconds}:size=${size}:rate=10`;
    await run(ffmpegInstaller.path, ['-v', 'error', '-f', 'lavfi', '-i', input, ...codec, path]);
    return readFileSync(path);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
