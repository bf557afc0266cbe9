import type { Request } from 'express';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { IterationView } from '../../read-models/iterations/iteration.view.js';
import { toIterationDto } from './iteration.dto.js';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

export type ContentCoding = 'br' | 'gzip';

/**
 * The compression middleware's own settings (brotli quality 4, gzip level 6): the same bytes on the wire as before,
 * at a cost paid once per revision. Brotli's best quality took 125 CPU-ms for a 500-epoch iteration.
 */
const COMPRESS: Record<ContentCoding, (json: Buffer) => Promise<Buffer>> = {
  br: (json) =>
    brotli(json, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: json.length },
    }),
  gzip: (json) => gzipped(json, { level: 6 }),
};

/** The coding the compression middleware would choose: brotli, then gzip; none for a client that names none. */
export function contentCodingFor(request: Request): ContentCoding | 'identity' {
  if (!request.headers['accept-encoding']) return 'identity';
  if (request.acceptsEncodings('br')) return 'br';
  return request.acceptsEncodings('gzip') ? 'gzip' : 'identity';
}

/** Bytes of JSON kept at most (compressed copies add about half again); a 500-epoch iteration is about 82 KB. */
const MAX_KEPT_JSON_BYTES = 8 * 1024 * 1024;

/** One iteration's answer at one revision: its JSON, and each compressed copy made once, when first asked for. */
export class SerializedIteration {
  private readonly compressed = new Map<ContentCoding, Promise<Buffer>>();

  constructor(
    readonly revision: number,
    readonly json: Buffer,
  ) {}

  /** Made off the event loop (zlib's thread pool), shared by every request that waits for it. */
  encoded(coding: ContentCoding): Promise<Buffer> {
    let body = this.compressed.get(coding);
    if (!body) {
      body = COMPRESS[coding](this.json);
      this.compressed.set(coding, body);
    }
    return body;
  }
}

/**
 * The latest answer of each recently read iteration, serialized once per revision. A training's page polls its
 * iteration and 900 GETs of a 500-epoch one at once held /health for seconds: each serialized and compressed the same
 * 82 KB again. An iteration's document changes only with an event of its stream, which moves its revision, so the
 * revision names the answer.
 */
export class SerializedIterations {
  private readonly kept = new Map<string, SerializedIteration>();
  private keptBytes = 0;

  of(view: IterationView): SerializedIteration {
    const kept = this.kept.get(view.id);
    if (kept) this.forget(view.id, kept);
    const serialized =
      kept?.revision === view.revision
        ? kept
        : new SerializedIteration(view.revision, Buffer.from(JSON.stringify(toIterationDto(view))));
    // Last read last: a Map iterates in insertion order, so the least recently read goes first.
    this.kept.set(view.id, serialized);
    this.keptBytes += serialized.json.length;
    for (const [id, oldest] of this.kept) {
      if (this.keptBytes <= MAX_KEPT_JSON_BYTES) break;
      this.forget(id, oldest);
    }
    return serialized;
  }

  private forget(id: string, serialized: SerializedIteration): void {
    this.kept.delete(id);
    this.keptBytes -= serialized.json.length;
  }
}
