import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { RawImage } from '@diyml/ml';

/** Where Debian's dataset-fashion-mnist package puts the IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_LABELS = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Installs Debian's dataset-fashion-mnist when its files are missing. */
export function ensureFashionMnist(): void {
  if (existsSync(`${FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`)) return;
  console.error('Installing dataset-fashion-mnist with apt-get…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'dataset-fashion-mnist'], { stdio: 'inherit', env });
}

/** IDX files: big-endian magic (0x0803 images, 0x0801 labels), then the dimensions, then unsigned bytes. */
function readIdx(name: string): { dimensions: number[]; data: Uint8Array } {
  const bytes = gunzipSync(readFileSync(`${FASHION_MNIST_DIR}/${name}`));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic >> 8 !== 0x08) throw new Error(`${name}: not an unsigned-byte IDX file (magic ${magic.toString(16)})`);
  const dimensions = Array.from({ length: magic & 0xff }, (_, i) => view.getUint32(4 + 4 * i));
  const offset = 4 + 4 * dimensions.length;
  return { dimensions, data: new Uint8Array(bytes.buffer, bytes.byteOffset + offset, bytes.byteLength - offset) };
}

/** The 60,000 training ('train') or 10,000 test ('t10k') images as 28×28 grayscale pixels, with class indexes. */
export function readFashionMnist(split: 'train' | 't10k'): { images: RawImage[]; labels: number[] } {
  ensureFashionMnist();
  const images = readIdx(`${split}-images-idx3-ubyte.gz`);
  const labels = readIdx(`${split}-labels-idx1-ubyte.gz`);
  const [count, height, width] = images.dimensions;
  const size = height * width;
  return {
    images: Array.from({ length: count }, (_, i) => ({
      pixels: images.data.subarray(i * size, (i + 1) * size),
      width,
      height,
      channels: 1 as const,
    })),
    labels: Array.from(labels.data.subarray(0, count)),
  };
}
