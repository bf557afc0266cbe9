import mongoose, { type Connection } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobStore,
  blobNotFound,
  type BlobReadStream,
  type BlobSource,
  checkExpectedSha256,
  HashingCounter,
  isSha256,
  type PutStreamOptions,
  sha256Of,
  type StoredBlob,
} from '../blob-store.port.js';

const BUCKET = 'blobs';

type Bucket = InstanceType<typeof mongoose.mongo.GridFSBucket>;

/**
 * The distributed blob store: GridFS on the MongoDB that holds the read models. The GridFS filename is the
 * sha256. GridFS writes the chunks first and the file document last, so a blob is only found once it is whole.
 */
export class GridFsBlobStore extends BlobStore {
  private constructor(
    private readonly bucket: Bucket,
    private readonly connection?: Connection,
  ) {
    super();
  }

  static async connect(uri: string): Promise<GridFsBlobStore> {
    const connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000 }).asPromise();
    if (!connection.db) throw new Error('The MongoDB connection has no database.');
    return new GridFsBlobStore(new mongoose.mongo.GridFSBucket(connection.db, { bucketName: BUCKET }), connection);
  }

  /** On a bucket opened elsewhere (tests pass one that plays the server). */
  static on(bucket: Bucket): GridFsBlobStore {
    return new GridFsBlobStore(bucket);
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = sha256Of(bytes);
    const stored = { sha256, bytes: bytes.byteLength };
    if (await this.has(sha256)) return stored;
    // Two writers of the same new bytes may both store a copy; get() reads either, delete() removes both.
    const upload = this.bucket.openUploadStream(sha256, { metadata: { bytes: bytes.byteLength } });
    await pipeline(Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]), upload);
    return stored;
  }

  /**
   * Uploaded under a temporary name as it is hashed, then renamed to its sha256 (found only then), or deleted
   * when those bytes were stored already or are not the ones expected.
   */
  async putStream(source: BlobSource, options: PutStreamOptions = {}): Promise<StoredBlob> {
    const counter = new HashingCounter();
    const upload = this.bucket.openUploadStream(`.tmp-${randomUUID()}`);
    try {
      await pipeline(counter.pass(source), upload);
    } catch (error) {
      await this.bucket.delete(upload.id).catch(() => undefined);
      throw error;
    }
    const sha256 = counter.digest();
    const stored = { sha256, bytes: counter.bytes };
    try {
      checkExpectedSha256(options.sha256, sha256);
    } catch (error) {
      await this.bucket.delete(upload.id);
      throw error;
    }
    if (await this.has(sha256)) await this.bucket.delete(upload.id);
    else await this.bucket.rename(upload.id, sha256);
    return stored;
  }

  async getStream(sha256: string): Promise<BlobReadStream> {
    if (!isSha256(sha256)) throw blobNotFound(sha256);
    const [file] = await this.bucket.find({ filename: sha256 }).limit(1).toArray();
    if (!file) throw blobNotFound(sha256);
    return { bytes: file.length, stream: this.bucket.openDownloadStream(file._id) };
  }

  async get(sha256: string): Promise<Buffer> {
    if (!isSha256(sha256)) throw blobNotFound(sha256);
    const [file] = await this.bucket.find({ filename: sha256 }).limit(1).toArray();
    if (!file) throw blobNotFound(sha256);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of this.bucket.openDownloadStream(file._id)) chunks.push(chunk as Buffer);
    } catch (error) {
      // Deleted while being read (the download fails on the missing file or chunk): as if never there.
      if (!(await this.has(sha256))) throw blobNotFound(sha256);
      throw error;
    }
    return Buffer.concat(chunks);
  }

  async has(sha256: string): Promise<boolean> {
    if (!isSha256(sha256)) return false;
    const [file] = await this.bucket.find({ filename: sha256 }).limit(1).toArray();
    return file !== undefined;
  }

  async delete(sha256: string): Promise<void> {
    if (!isSha256(sha256)) return;
    for (const file of await this.bucket.find({ filename: sha256 }).toArray()) {
      try {
        await this.bucket.delete(file._id);
      } catch (error) {
        // Deleted meanwhile by another caller: the outcome is the same.
        if (!(error instanceof mongoose.mongo.MongoRuntimeError)) throw error;
      }
    }
  }

  /** Drops every blob: used by tests to start from zero. */
  async dropAll(): Promise<void> {
    await this.bucket.drop().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.connection?.close();
  }
}
