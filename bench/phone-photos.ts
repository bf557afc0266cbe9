/**
 * Phone photos end to end over HTTP (issue 12), against the built api (`npx nest build api`) in its own process: the
 * Custom Vision sample photos (../shared/datasets/custom-vision-samples, MIT) upscaled to 12 MP (4032×3024, with
 * sensor-like noise so the JPEGs weigh what a phone's do), a quarter of them each stored sideways or upside down with
 * the EXIF orientation (6, 8, 3) that shows them upright, as phones write them.
 *
 * 1. Correctness: the sizes the api reports, thumbnails and the bytes served back are those of the upright photo; a
 *    classifier and a detector trained on the mixed photos predict the same on a photo's rotated-tag copy as on the
 *    upright one, and the detector's boxes land on the object in the frame the user sees.
 * 2. Speed and memory: uploading the 50 photos (MiB/s, the api's RSS peak), training on them, and one 12-MP photo's
 *    prediction over HTTP beside the sample photo's, with the decode + resize part measured in this process.
 * 3. Odd formats: each uploaded and predicted; a refusal must be a 4xx with a code.
 *
 * Run: npx tsx bench/phone-photos.ts   (by hand; not part of `npm run bench`)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeLetterboxed, decodeResized, iou, type Box } from '@diyml/ml';
import { BenchClient, processMemory, startProduct, until, type RunningProduct } from './support/product.js';
import { median, percentile } from './support/result.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'custom-vision-samples');
const PHONE = { width: 4032, height: 3024 };
const PREDICTIONS = 20;

/** EXIF orientation → the clockwise rotation that stores an upright photo so a viewer applying the tag shows it upright. */
const STORED_ROTATION: Record<number, number> = { 1: 0, 3: 180, 6: 270, 8: 90 };
const ORIENTATIONS = [1, 6, 8, 3];

let noise: Promise<Buffer> | undefined;
/** Upscaled to 12 MP with grain, so it compresses like a phone photo rather than a smooth upscale. */
async function phonePhoto(bytes: Uint8Array): Promise<Buffer> {
  noise ??= sharp({
    create: {
      ...PHONE,
      channels: 3,
      background: { r: 128, g: 128, b: 128 },
      noise: { type: 'gaussian', mean: 128, sigma: 24 },
    },
  })
    .png()
    .toBuffer();
  return sharp(bytes)
    .rotate()
    .resize(PHONE.width, PHONE.height, { fit: 'fill' })
    .composite([{ input: await noise, blend: 'soft-light' }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

/** The upright photo stored as a phone with this EXIF orientation writes it. */
async function withOrientation(upright: Buffer, orientation: number): Promise<Buffer> {
  if (orientation === 1) return upright;
  return sharp(upright)
    .rotate(STORED_ROTATION[orientation])
    .jpeg({ quality: 92 })
    .withMetadata({ orientation })
    .toBuffer();
}

interface Coco {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { image_id: number; category_id: number; bbox: [number, number, number, number] }[];
  categories: { id: number; name: string }[];
}

interface DetectionPhoto {
  name: string;
  number: number;
  tag: string;
  box: Box;
  source: Uint8Array;
}

function detectionPhotos(): { tags: string[]; photos: DetectionPhoto[] } {
  const dir = join(SAMPLES, 'detection');
  const coco = JSON.parse(readFileSync(join(dir, 'annotations.coco.json'), 'utf8')) as Coco;
  return {
    tags: coco.categories.map((category) => category.name),
    photos: coco.images.map((image) => {
      const annotation = coco.annotations.find((candidate) => candidate.image_id === image.id)!;
      const [x, y, width, height] = annotation.bbox;
      return {
        name: image.file_name,
        number: Number(/(\d+)\.\w+$/.exec(image.file_name)?.[1] ?? 0),
        tag: coco.categories.find((category) => category.id === annotation.category_id)!.name,
        box: { x: x / image.width, y: y / image.height, width: width / image.width, height: height / image.height },
        source: new Uint8Array(readFileSync(join(dir, 'images', image.file_name))),
      };
    }),
  };
}

type Prediction = { label: string; probability: number; box?: Box };
type Deployment = { id: string; apiKey: string };

async function predict(base: string, deployment: Deployment, bytes: Uint8Array) {
  const started = performance.now();
  const response = await fetch(`${base}/v1/predict/${deployment.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'x-api-key': deployment.apiKey },
    body: bytes,
  });
  const ms = performance.now() - started;
  const body = (await response.json()) as { predictions?: Prediction[]; code?: string; message?: string };
  return { status: response.status, ms, body };
}

async function trainAndDeploy(client: BenchClient, projectId: string) {
  const started = performance.now();
  const queued = await client.json<{ id: string }>('POST', `/v1/projects/${projectId}/iterations`, {});
  const iteration = await until(
    () =>
      client.json<{
        id: string;
        status: string;
        architecture: string;
        history: { durationMs: number }[];
        embeddings?: { computed: number; reused: number };
        error?: unknown;
      }>('GET', `/v1/projects/${projectId}/iterations/${queued.id}`),
    (value) => ['completed', 'failed', 'cancelled'].includes(value.status),
  );
  if (iteration.status !== 'completed')
    throw new Error(`training ${iteration.status}: ${JSON.stringify(iteration.error)}`);
  const seconds = (performance.now() - started) / 1000;
  const epochsSeconds = iteration.history.reduce((sum, epoch) => sum + epoch.durationMs, 0) / 1000;
  const deployment = await client.json<Deployment>('POST', `/v1/projects/${projectId}/deployments`, {
    iterationId: iteration.id,
  });
  return { iteration, seconds, epochsSeconds, deployment };
}

/** Samples the api's RSS while `work` runs: its peak, in MiB. */
async function rssPeakDuring<T>(
  product: RunningProduct,
  work: () => Promise<T>,
): Promise<{ result: T; peakMiB: number }> {
  let peakMiB = product.rssMiB();
  const timer = setInterval(() => (peakMiB = Math.max(peakMiB, product.rssMiB())), 50);
  try {
    const result = await work();
    return { result, peakMiB: Math.max(peakMiB, product.rssMiB()) };
  } finally {
    clearInterval(timer);
  }
}

async function upload(
  client: BenchClient,
  projectId: string,
  files: { name: string; bytes: Uint8Array }[],
  label?: string,
) {
  const items = await client.upload(projectId, files, label ? { label } : {});
  const refused = items.find((item) => item.status !== 'created');
  if (refused) throw new Error(`upload refused: ${JSON.stringify(refused)}`);
  return items.map((item) => item.id!);
}

/** Mean absolute difference of two images' grey pixels at 64×48 (0 = same picture; a rotated one is far off). */
async function difference(a: Uint8Array, b: Uint8Array): Promise<number> {
  const grey = (bytes: Uint8Array) =>
    sharp(bytes).rotate().resize(64, 48, { fit: 'fill' }).toColourspace('b-w').raw().toBuffer();
  const [x, y] = await Promise.all([grey(a), grey(b)]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i] - y[i]);
  return sum / x.length;
}

const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.log(line);
};

const loadBefore = loadavg();
console.error('Making 12-MP phone photos…');
const classificationRoot = join(SAMPLES, 'classification');
const classLabels = ['Hemlock', 'Japanese Cherry'];
const classPhotos = await Promise.all(
  classLabels.flatMap((label) =>
    readdirSync(join(classificationRoot, label))
      .sort()
      .map(async (file, index) => {
        const upright = await phonePhoto(readFileSync(join(classificationRoot, label, file)));
        const orientation = ORIENTATIONS[index % ORIENTATIONS.length];
        return {
          label,
          name: `${orientation}-${file}`,
          orientation,
          upright,
          bytes: await withOrientation(upright, orientation),
        };
      }),
  ),
);
const { tags, photos: detection } = detectionPhotos();
const training = detection.filter((photo) => photo.number <= 15);
const heldOut = detection.filter((photo) => photo.number > 15);
const detectionUploads = await Promise.all(
  training.map(async (photo) => {
    const upright = await phonePhoto(photo.source);
    const orientation = ORIENTATIONS[photo.number % ORIENTATIONS.length];
    return { ...photo, orientation, upright, bytes: await withOrientation(upright, orientation) };
  }),
);
const uploadBytes = [...classPhotos, ...detectionUploads].reduce((sum, photo) => sum + photo.bytes.length, 0);
say(
  `photos: ${classPhotos.length + detectionUploads.length} 12-MP JPEGs, ${(uploadBytes / 2 ** 20).toFixed(1)} MiB, ` +
    `orientations ${ORIENTATIONS.join('/')} in turn`,
);

const product = await startProduct({ fresh: true, env: { PREDICT_RATE_LIMIT: '100000000' } });
try {
  const client = await BenchClient.register(product.base);
  const rssAtRest = product.rssMiB();

  // 2. Upload: 10 photos a request, as the console sends them.
  const classProject = await client.createProject('Phone photos: trees', classLabels);
  const detectionProject = await client.json<{ id: string }>('POST', '/v1/projects', {
    name: 'Phone photos: cutlery',
    type: 'detection',
  });
  for (const tag of tags) await client.json('POST', `/v1/projects/${detectionProject.id}/labels`, { name: tag });
  const started = performance.now();
  let classUploaded = started;
  const { result: ids, peakMiB: uploadPeak } = await rssPeakDuring(product, async () => {
    const classIds: string[] = [];
    for (const label of classLabels) {
      const ofLabel = classPhotos.filter((photo) => photo.label === label);
      classIds.push(...(await upload(client, classProject, ofLabel.slice(0, 10), label)));
    }
    classUploaded = performance.now();
    const detectionIds: string[] = [];
    for (let i = 0; i < detectionUploads.length; i += 10) {
      detectionIds.push(...(await upload(client, detectionProject.id, detectionUploads.slice(i, i + 10))));
    }
    return { classIds, detectionIds };
  });
  const uploadSeconds = (performance.now() - started) / 1000;
  // A backbone project embeds its photos in the background as they arrive (training reuses them).
  await until(
    () => client.json<{ items: { imageCount: number }[] }>('GET', `/v1/projects/${classProject}/embeddings`),
    (cache) => cache.items.some((table) => table.imageCount >= classPhotos.length),
    () => new Promise((resolve) => setTimeout(resolve, 100)),
  );
  const embeddedSeconds = (performance.now() - classUploaded) / 1000;
  say(
    `upload: ${(uploadBytes / 2 ** 20 / uploadSeconds).toFixed(1)} MiB/s, ${((classPhotos.length + detectionUploads.length) / uploadSeconds).toFixed(1)} photos/s ` +
      `(${uploadSeconds.toFixed(1)} s); api RSS ${rssAtRest.toFixed(0)} MiB at rest, peak ${uploadPeak.toFixed(0)} MiB while uploading`,
  );
  say(
    `background embeddings of the ${classPhotos.length} tree photos: done ${embeddedSeconds.toFixed(1)} s after their upload ended ` +
      `(beside the ${detectionUploads.length} cutlery photos' upload)`,
  );

  // 1. What the api reports and serves for each orientation.
  for (const [index, photo] of detectionUploads.entries()) {
    if (index >= 4) break;
    const id = ids.detectionIds[index];
    const image = await client.json<{ width: number; height: number }>(
      'GET',
      `/v1/projects/${detectionProject.id}/images/${id}`,
    );
    const headers = { authorization: client.auth };
    const thumbnail = new Uint8Array(
      await (
        await fetch(`${product.base}/v1/projects/${detectionProject.id}/images/${id}/thumbnail`, { headers })
      ).arrayBuffer(),
    );
    const content = new Uint8Array(
      await (
        await fetch(`${product.base}/v1/projects/${detectionProject.id}/images/${id}/content`, { headers })
      ).arrayBuffer(),
    );
    const thumbnailSize = await sharp(thumbnail).metadata();
    say(
      `orientation ${photo.orientation}: api size ${image.width}×${image.height}; thumbnail ${thumbnailSize.width}×${thumbnailSize.height}, ` +
        `off the upright photo by ${(await difference(thumbnail, photo.upright)).toFixed(1)} grey levels ` +
        `(rotated 90°: ${(await difference(thumbnail, await sharp(photo.upright).rotate(90).toBuffer())).toFixed(1)}); ` +
        `content = bytes sent: ${Buffer.from(content).equals(photo.bytes)}, shown off the upright by ${(await difference(content, photo.upright)).toFixed(1)}`,
    );
  }

  // Regions drawn on the upright photo (the frame the console shows), whatever the file's orientation.
  await client.json('POST', `/v1/projects/${detectionProject.id}/images/labels`, {
    items: detectionUploads.map((photo, index) => ({
      imageId: ids.detectionIds[index],
      regions: [{ label: photo.tag, ...photo.box }],
    })),
  });

  // Training on the mixed photos.
  const classTraining = await rssPeakDuring(product, () => trainAndDeploy(client, classProject));
  say(
    `classifier (${classTraining.result.iteration.architecture}) on ${classPhotos.length} 12-MP photos: queue to completed ${classTraining.result.seconds.toFixed(1)} s, ` +
      `epochs ${classTraining.result.epochsSeconds.toFixed(1)} s, embeddings ${JSON.stringify(classTraining.result.iteration.embeddings)}; api RSS peak ${classTraining.peakMiB.toFixed(0)} MiB`,
  );
  const detectionTraining = await rssPeakDuring(product, () => trainAndDeploy(client, detectionProject.id));
  say(
    `detector (${detectionTraining.result.iteration.architecture}) on ${detectionUploads.length} 12-MP photos: queue to completed ${detectionTraining.result.seconds.toFixed(1)} s, ` +
      `epochs ${detectionTraining.result.epochsSeconds.toFixed(1)} s; api RSS peak ${detectionTraining.peakMiB.toFixed(0)} MiB`,
  );

  // Same answer for a photo and its rotated-tag copies.
  const classifier = classTraining.result.deployment;
  const hemlockTest = await phonePhoto(readFileSync(join(classificationRoot, 'test', 'hemlock_test.jpg')));
  let worstProbability = 0;
  for (const orientation of ORIENTATIONS) {
    const answer = await predict(product.base, classifier, await withOrientation(hemlockTest, orientation));
    const upright = await predict(product.base, classifier, hemlockTest);
    const top = answer.body.predictions![0];
    const same = upright.body.predictions!.find((prediction) => prediction.label === top.label)!;
    worstProbability = Math.max(worstProbability, Math.abs(top.probability - same.probability));
    say(
      `classifier, hemlock test photo with orientation ${orientation}: ${top.label} ${(top.probability * 100).toFixed(1)}% (upright ${(same.probability * 100).toFixed(1)}%)`,
    );
  }
  const detector = detectionTraining.result.deployment;
  const ious: Record<number, number[]> = {};
  const agreement: number[] = [];
  for (const [index, photo] of heldOut.entries()) {
    const upright = await phonePhoto(photo.source);
    const boxes: Box[] = [];
    for (const orientation of [1, ORIENTATIONS[1 + (index % 3)]]) {
      const answer = await predict(product.base, detector, await withOrientation(upright, orientation));
      const best = answer.body.predictions?.find((prediction) => prediction.label === photo.tag && prediction.box);
      (ious[orientation] ??= []).push(best?.box ? iou(best.box, photo.box) : 0);
      boxes.push(best?.box ?? { x: 0, y: 0, width: 0, height: 0 });
    }
    agreement.push(iou(boxes[0], boxes[1]));
  }
  for (const [orientation, values] of Object.entries(ious)) {
    say(
      `detector, held-out photos with orientation ${orientation}: best box of the right tag IoU ≥ 0.5 on ${values.filter((v) => v >= 0.5).length} of ${values.length}, ` +
        `median IoU ${median(values).toFixed(2)}`,
    );
  }
  agreement.sort((a, b) => a - b);
  say(
    `detector, each held-out photo's best box on its rotated-tag copy against the upright copy's: IoU min ${agreement[0].toFixed(2)}, median ${median(agreement).toFixed(2)}`,
  );

  // Latency: one 12-MP photo beside the sample photo it was made from.
  const sample = readFileSync(join(SAMPLES, 'classification', 'test', 'hemlock_test.jpg'));
  const forkSample = readFileSync(join(SAMPLES, 'detection', 'test', 'fork_test.jpg'));
  const forkPhone = await phonePhoto(forkSample);
  for (const [name, deployment, photos] of [
    [
      'classifier',
      classifier,
      { sample, '12-MP': hemlockTest, '12-MP orientation 6': await withOrientation(hemlockTest, 6) },
    ],
    [
      'detector',
      detector,
      { sample: forkSample, '12-MP': forkPhone, '12-MP orientation 6': await withOrientation(forkPhone, 6) },
    ],
  ] as const) {
    for (const [photoName, bytes] of Object.entries(photos)) {
      await predict(product.base, deployment, bytes);
      const times: number[] = [];
      const cpuBefore = product.cpuMs();
      for (let i = 0; i < PREDICTIONS; i++) times.push((await predict(product.base, deployment, bytes)).ms);
      const cpuPer = (product.cpuMs() - cpuBefore) / PREDICTIONS;
      times.sort((a, b) => a - b);
      const meta = await sharp(bytes).metadata();
      say(
        `${name} predict ${photoName} (${meta.width}×${meta.height}, ${(bytes.length / 1024).toFixed(0)} KiB) over HTTP: p50 ${percentile(times, 50).toFixed(0)} ms, ` +
          `p90 ${percentile(times, 90).toFixed(0)} ms, api CPU ${cpuPer.toFixed(0)} ms a prediction`,
      );
    }
  }

  // Decode + resize alone, in this process, the way the models prepare their input.
  for (const [photoName, bytes] of [
    ['sample 816×612', new Uint8Array(forkSample)],
    ['12-MP', new Uint8Array(forkPhone)],
    ['12-MP orientation 6', new Uint8Array(await withOrientation(forkPhone, 6))],
  ] as const) {
    const time = async (work: () => Promise<unknown>) => {
      await work();
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        await work();
        times.push(performance.now() - t);
      }
      return median(times);
    };
    const { width = 0, height = 0 } = await sharp(bytes).metadata();
    const header = await time(() => sharp(bytes).metadata());
    // JPEG decoding at an eighth of the size (what shrink-on-load does), then no more than a copy.
    const shrunk = await time(() =>
      sharp(bytes)
        .resize(Math.ceil(width / 8), Math.ceil(height / 8), { fit: 'fill' })
        .raw()
        .toBuffer(),
    );
    const full = await time(() => sharp(bytes).raw().toBuffer());
    const resize = await time(() => decodeResized(bytes, { width: 224, height: 224 }, 3));
    const letterbox = await time(() => decodeLetterboxed(bytes, { width: 320, height: 320 }, 3));
    say(
      `decode ${photoName}: header ${header.toFixed(1)} ms, decoded at 1/8 size ${shrunk.toFixed(1)} ms, at full size ${full.toFixed(1)} ms; ` +
        `as the models take it: to 224×224 ${resize.toFixed(1)} ms, letterboxed to 320×320 ${letterbox.toFixed(1)} ms (medians of 10)`,
    );
  }

  // 50-MP photos: 4 in one request (baseline and progressive JPEGs), then one's prediction.
  const fiftyMp = await Promise.all(
    [0, 1, 2, 3].map(async (index) => {
      const photo = await sharp(classPhotos[index + 4].upright)
        .resize(8160, 6144)
        .composite([
          {
            input: await sharp(await noise!)
              .resize(8160, 6144)
              .toBuffer(),
            blend: 'soft-light',
          },
        ])
        .jpeg({ quality: 92, progressive: index % 2 === 1 })
        .toBuffer();
      return { name: `50mp-${index}.jpg`, bytes: photo };
    }),
  );
  const bigProject = await client.createProject('Phone photos: 50 MP', classLabels);
  const rssBefore = product.rssMiB();
  const bigStarted = performance.now();
  const { peakMiB: bigPeak } = await rssPeakDuring(product, () => upload(client, bigProject, fiftyMp, 'Hemlock'));
  say(
    `50-MP upload: 4 JPEGs (2 progressive) of ${fiftyMp.map((photo) => (photo.bytes.length / 2 ** 20).toFixed(1)).join(', ')} MiB in one request, ` +
      `${((performance.now() - bigStarted) / 1000).toFixed(1)} s; api RSS ${rssBefore.toFixed(0)} MiB before, peak ${bigPeak.toFixed(0)} MiB`,
  );
  for (const [index, photo] of fiftyMp.slice(0, 2).entries()) {
    const times: number[] = [];
    const cpuBefore = product.cpuMs();
    const { peakMiB } = await rssPeakDuring(product, async () => {
      for (let i = 0; i < 6; i++) {
        const answer = await predict(product.base, detector, photo.bytes);
        if (answer.status !== 200) throw new Error(`50-MP prediction: ${answer.status} ${JSON.stringify(answer.body)}`);
        times.push(answer.ms);
      }
    });
    times.sort((a, b) => a - b);
    say(
      `detector predict 50-MP ${index ? 'progressive ' : ''}JPEG over HTTP: p50 ${median(times).toFixed(0)} ms, ` +
        `api CPU ${((product.cpuMs() - cpuBefore) / times.length).toFixed(0)} ms a prediction; api RSS peak ${peakMiB.toFixed(0)} MiB`,
    );
  }

  // 3. Odd formats.
  const base = classPhotos[0].upright;
  const odd: Record<string, Buffer> = {
    'progressive JPEG': await sharp(base).jpeg({ progressive: true }).toBuffer(),
    'CMYK JPEG': await sharp(base).toColourspace('cmyk').jpeg().toBuffer(),
    'grayscale JPEG': await sharp(base).toColourspace('b-w').jpeg().toBuffer(),
    '50-MP JPEG (8160×6144)': await sharp(base).resize(8160, 6144).jpeg().toBuffer(),
    '64-MP JPEG (9248×6936)': await sharp(base).resize(9248, 6936).jpeg().toBuffer(),
    'PNG with alpha': await sharp(base).resize(1200, 900).ensureAlpha(0.5).png().toBuffer(),
    '16-bit PNG': await sharp(base).resize(1200, 900).toColourspace('rgb16').png().toBuffer(),
    '16-bit grey PNG': await sharp(base).resize(1200, 900).toColourspace('grey16').png().toBuffer(),
    'grey PNG with alpha': await sharp(base).resize(1200, 900).toColourspace('b-w').ensureAlpha(0.5).png().toBuffer(),
    WebP: await sharp(base).resize(2000, 1500).webp().toBuffer(),
    'WebP with alpha': await sharp(base).resize(2000, 1500).ensureAlpha(0.5).webp().toBuffer(),
    // sharp mirrors before it rotates: these store the upright photo transposed (5) and transversed (7).
    'orientation 5 (transposed)': await sharp(base)
      .rotate(270)
      .flop()
      .jpeg()
      .withMetadata({ orientation: 5 })
      .toBuffer(),
    'orientation 7 (transversed)': await sharp(base)
      .rotate(90)
      .flop()
      .jpeg()
      .withMetadata({ orientation: 7 })
      .toBuffer(),
    'orientation 2 (mirrored)': await sharp(base).flop().jpeg().withMetadata({ orientation: 2 }).toBuffer(),
    'truncated JPEG': base.subarray(0, Math.floor(base.length / 2)),
    'HEIC (HEVC) header': Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from('ftypheic\0\0\0\0mif1heic'),
      Buffer.alloc(200),
    ]),
  };
  const oddProject = await client.createProject('Phone photos: odd formats', classLabels);
  for (const [name, bytes] of Object.entries(odd)) {
    const form = new FormData();
    form.append('images', new Blob([bytes]), `${name}.bin`);
    const response = await fetch(`${product.base}/v1/projects/${oddProject}/images`, {
      method: 'POST',
      headers: { authorization: client.auth },
      body: form,
    });
    const body = (await response.json()) as {
      items?: { status: string; id?: string; error?: { code: string } }[];
      code?: string;
    };
    const item = body.items?.[0];
    let shown = '';
    if (item?.id) {
      const image = await client.json<{ width: number; height: number }>(
        'GET',
        `/v1/projects/${oddProject}/images/${item.id}`,
      );
      const thumbnail = await fetch(`${product.base}/v1/projects/${oddProject}/images/${item.id}/thumbnail`, {
        headers: { authorization: client.auth },
      });
      shown =
        `, ${image.width}×${image.height}, thumbnail ${thumbnail.status}` +
        (thumbnail.ok
          ? ` off the upright by ${(await difference(new Uint8Array(await thumbnail.arrayBuffer()), base)).toFixed(1)}`
          : '');
    }
    const predicted = await predict(product.base, classifier, bytes);
    say(
      `${name}: upload ${response.status} ${item ? item.status + (item.error ? ' ' + item.error.code : '') : (body.code ?? '')}${shown}; ` +
        `predict ${predicted.status} ${predicted.body.predictions ? predicted.body.predictions[0].label + ' ' + (predicted.body.predictions[0].probability * 100).toFixed(0) + '%' : predicted.body.code} ` +
        `${predicted.ms.toFixed(0)} ms`,
    );
  }
  say(
    `api RSS at the end ${product.rssMiB().toFixed(0)} MiB, peak (VmHWM) ${processMemory(product.pid).hwmMiB.toFixed(0)} MiB`,
  );
} finally {
  await product.stop();
}
say(
  `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (2 cores)`,
);
