import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { DomainError } from '@diyml/core/pure';
import type { UploadedFile } from '../../upload/temporary-files.js';

const run = promisify(execFile);

/** The ffmpeg binary shipped by the @ffmpeg-installer package for this platform. */
const FFMPEG = ffmpegInstaller.path;

/** Stable codes of video refusals (shared by the upload and the prediction of videos). */
export const VideoErrors = {
  VIDEO_REQUIRED: 'VIDEO_REQUIRED',
  VIDEO_TOO_LARGE: 'VIDEO_TOO_LARGE',
  VIDEO_UNDECODABLE: 'VIDEO_UNDECODABLE',
  VIDEO_FORMAT_UNSUPPORTED: 'VIDEO_FORMAT_UNSUPPORTED',
  VIDEO_TOO_LONG: 'VIDEO_TOO_LONG',
  VIDEO_NOT_FOUND: 'VIDEO_NOT_FOUND',
} as const;

/**
 * The one video a multipart request sent, in its temporary file: 400 VIDEO_REQUIRED without one, 413 VIDEO_TOO_LARGE
 * when the upload was over `maxBytes` (VIDEO_MAX_BYTES).
 */
export function receivedVideo(file: UploadedFile | undefined, maxBytes: number): { path: string; filename: string } {
  if (!file) throw DomainError.validation(VideoErrors.VIDEO_REQUIRED, 'Send the video in the multipart field "video".');
  if (file.overLimit) {
    throw new DomainError(
      'too-large',
      VideoErrors.VIDEO_TOO_LARGE,
      `The video has more than ${maxBytes} bytes [VIDEO_MAX_BYTES].`,
      { maxBytes },
    );
  }
  return { path: file.path, filename: file.filename };
}

/** A video: the path of a file holding it, its bytes, or a stream of them (a stored blob). */
export type VideoSource = string | Uint8Array | Readable;

/** ffmpeg's demuxer names of the containers accepted: MP4 and MOV (one demuxer), WebM (Matroska's). */
const CONTAINERS: Record<string, 'mp4' | 'webm'> = { 'mov,mp4,m4a,3gp,3g2,mj2': 'mp4', 'matroska,webm': 'webm' };

export interface VideoInfo {
  container: 'mp4' | 'webm';
  durationMs: number;
  width: number;
  height: number;
}

export interface ExtractedFrame {
  /** Where in the video the frame is, from its start. */
  timestampMs: number;
  png: Buffer;
}

const undecodable = (reason: string) =>
  DomainError.unprocessable(
    VideoErrors.VIDEO_UNDECODABLE,
    `The video cannot be decoded: ${reason}. Send an MP4, MOV or WebM video.`,
  );

/**
 * A private folder, removed after `use`, and the video as a file (ffmpeg seeks in MP4s, which a pipe does not allow):
 * the file given, or one in the folder that the bytes or the stream are written to.
 */
async function withVideoFile<T>(video: VideoSource, use: (path: string, folder: string) => Promise<T>): Promise<T> {
  const folder = await mkdtemp(join(tmpdir(), 'diyml-video-'));
  try {
    if (typeof video === 'string') return await use(video, folder);
    const path = join(folder, 'video');
    await writeFile(path, video);
    return await use(path, folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** A file as ffmpeg's input, named by its protocol so no part of the path reads as another protocol or an option. */
function ffmpegInput(path: string): string {
  return `file:${path}`;
}

function errorText(error: unknown): string {
  const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
  return stderr.split('\n').filter(Boolean).pop() ?? (error as Error).message;
}

/** Reads the container, duration and picture size from ffmpeg's description of the input. */
function describe(stderr: string): VideoInfo {
  const input = /Input #0, ([^ ]+), from/.exec(stderr);
  if (!input) throw undecodable('it is not a video file ffmpeg can open');
  const container = CONTAINERS[input[1]];
  if (!container) {
    throw new DomainError(
      'unsupported-media-type',
      VideoErrors.VIDEO_FORMAT_UNSUPPORTED,
      `The video is in ${input[1]} format: send an MP4, MOV or WebM video.`,
      {
        format: input[1],
      },
    );
  }
  const stream = /Stream #0:\d+.*?: Video: .*?, (\d+)x(\d+)/.exec(stderr);
  if (!stream) throw undecodable('it has no video stream');
  const duration = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  if (!duration) throw undecodable('its duration is unknown');
  const durationMs = Math.round(((Number(duration[1]) * 60 + Number(duration[2])) * 60 + Number(duration[3])) * 1000);
  const [width, height] = [Number(stream[1]), Number(stream[2])];
  const streamDescription = stderr.slice(stream.index).split(/\n\s*Stream #/)[0];
  return sideways(streamDescription)
    ? { container, durationMs, width: height, height: width }
    : { container, durationMs, width, height };
}

/**
 * Whether the video stream is shown turned a quarter (a portrait phone video: its pixels stored landscape and its
 * display matrix, or older `rotate` tag, saying to turn them): ffmpeg turns its frames upright, so they are its size
 * turned.
 */
function sideways(streamDescription: string): boolean {
  const rotation =
    /displaymatrix: rotation of (-?[\d.]+) degrees/.exec(streamDescription) ??
    /^\s*rotate\s*: (-?\d+)/m.exec(streamDescription);
  return rotation !== null && Math.abs(Math.round(Number(rotation[1]) / 90)) % 2 === 1;
}

/**
 * Checks that the file is a video diyml takes (MP4, MOV or WebM with a video stream) and that its first frame
 * decodes: 422 VIDEO_UNDECODABLE otherwise (415 VIDEO_FORMAT_UNSUPPORTED for another container).
 */
export async function inspectVideo(path: string): Promise<VideoInfo> {
  const input = ffmpegInput(path);
  let stderr = '';
  try {
    await run(FFMPEG, ['-hide_banner', '-nostdin', '-i', input]);
  } catch (error) {
    // Without an output ffmpeg only describes the input, and exits 1.
    stderr = String((error as { stderr?: unknown }).stderr ?? '');
  }
  const info = describe(stderr);
  try {
    const { stdout } = await run(
      FFMPEG,
      ['-v', 'error', '-nostdin', '-i', input, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', '-'],
      {
        encoding: 'buffer',
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    if (stdout.length === 0) throw new Error('no frame came out');
  } catch (error) {
    throw undecodable(`its first frame does not decode (${errorText(error)})`);
  }
  return info;
}

/**
 * The video's frames at `framesPerSecond` (frame i is at i / framesPerSecond seconds), at most `maxFrames`, as
 * PNGs. ffmpeg runs as a child process, off the event loop.
 */
export async function extractFrames(
  video: VideoSource,
  framesPerSecond: number,
  maxFrames: number,
): Promise<ExtractedFrame[]> {
  return withVideoFile(video, async (path, folder) => {
    const pattern = join(folder, 'frame-%06d.png');
    try {
      await run(FFMPEG, [
        '-v',
        'error',
        '-nostdin',
        '-i',
        ffmpegInput(path),
        '-vf',
        `fps=${framesPerSecond}`,
        '-frames:v',
        String(maxFrames),
        '-f',
        'image2',
        pattern,
      ]);
    } catch (error) {
      throw undecodable(errorText(error));
    }
    const names = (await readdir(folder)).filter((name) => name.startsWith('frame-')).sort();
    return Promise.all(
      names.map(async (name, index) => ({
        timestampMs: Math.round((index * 1000) / framesPerSecond),
        png: await readFile(join(folder, name)),
      })),
    );
  });
}

/** How many frames `extractFrames` gives for a video of this duration. */
export function frameCountOf(durationMs: number, framesPerSecond: number, maxFrames: number): number {
  return Math.min(maxFrames, Math.max(1, Math.ceil((durationMs / 1000) * framesPerSecond)));
}
