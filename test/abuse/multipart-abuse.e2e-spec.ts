import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore } from '@diyml/event-store';
import { ApiClient } from '../support/api-client.js';
import { colouredSquares, RED } from '../support/generated-images.js';
import { expectStayedLive, underAttack } from '../support/liveness-probe.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { exchange, type RawExchange, send } from './raw-http.js';

/** Each attack is small, but the machine these run on is often loaded 10-20 per core. */
vi.setConfig({ testTimeout: 120_000 });

const BOUNDARY = 'diymlAbuseBoundary';
/** An error answer is a few hundred bytes; anything near this means the api echoes what it was sent. */
const MAX_ERROR_BYTES = 4096;
/** A liveness bound scaled by the load per core (see expectStayedLive), not a speed target. */
const HEALTH_BOUND_MS = 1000;
const MAX_RSS_GROWTH_BYTES = 200 * 1024 * 1024;
const PASSWORD = 'a passphrase nobody guesses';

interface Part {
  name: string;
  filename?: string;
  /** The whole Content-Disposition value, instead of one built from `name` and `filename`. */
  disposition?: string;
  /** Extra header lines of the part, each ending with CRLF. */
  headers?: string;
  contentType?: string;
  body: Buffer | string;
}

function part({ name, filename, disposition: given, headers = '', contentType, body }: Part): Buffer {
  const disposition = given ?? `form-data; name="${name}"${filename === undefined ? '' : `; filename="${filename}"`}`;
  const type = contentType ?? (filename === undefined ? undefined : 'image/png');
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${type ? `Content-Type: ${type}\r\n` : ''}${headers}\r\n`,
      'utf8',
    ),
    Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    Buffer.from('\r\n'),
  ]);
}

/** A multipart body of these parts, closed by the final boundary unless `closed` is false. */
function multipart(parts: Part[], closed = true): Buffer {
  return Buffer.concat([...parts.map(part), Buffer.from(closed ? `--${BOUNDARY}--\r\n` : '')]);
}

describe('multipart uploads under attack', () => {
  let testApp: TestApp;
  let baseUrl: string;
  let auth: string;
  let uploadPath: string;
  let png: Buffer;
  /** Images not uploaded before the test of path separators. */
  let separated: Buffer[];

  /** A whole upload request as bytes, its Content-Length `declared` (the true length unless a lie is wanted). */
  function request(body: Buffer, options: { contentType?: string; declared?: number } = {}): Buffer {
    const head = [
      `POST ${uploadPath} HTTP/1.1`,
      `Host: ${new URL(baseUrl).host}`,
      `Authorization: ${auth}`,
      `Content-Type: ${options.contentType ?? `multipart/form-data; boundary=${BOUNDARY}`}`,
      `Content-Length: ${options.declared ?? body.length}`,
    ];
    return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
  }

  /** What the api has written: its event log's head and every file under its blob folder (temporary ones too). */
  async function written() {
    const blobs = join(testApp.dataDir, 'blobs');
    const entries = existsSync(blobs) ? readdirSync(blobs, { recursive: true, withFileTypes: true }) : [];
    const files = entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
    return { headPosition: await testApp.app.get(EventStore).headPosition(), files };
  }

  /** Sends one attack while /health is watched; checks the answer is small and nothing was written. */
  async function attack(sendAttack: () => Promise<RawExchange>): Promise<RawExchange> {
    const before = await written();
    const report = await underAttack(baseUrl, sendAttack);
    expectStayedLive(report, HEALTH_BOUND_MS, MAX_RSS_GROWTH_BYTES);
    expect(report.result.bytes).toBeLessThan(MAX_ERROR_BYTES);
    expect(await written()).toEqual(before);
    expect((await send(baseUrl, 'GET', '/health')).status).toBe(200);
    return report.result;
  }

  function expectRefused(answer: RawExchange, status: number, code: string): void {
    expect({ status: answer.status, code: answer.body.code }).toEqual({ status, code });
    expect(String(answer.body.message)).not.toHaveLength(0);
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    await testApp.app.listen(0, '127.0.0.1');
    const address = testApp.app.getHttpServer().address() as { port: number };
    baseUrl = `http://127.0.0.1:${address.port}`;
    const json = (value: unknown) => JSON.stringify(value);
    await send(baseUrl, 'POST', '/v1/auth/register', { body: json({ username: 'mallory', password: PASSWORD }) });
    const login = await send(baseUrl, 'POST', '/v1/auth/login', {
      body: json({ username: 'mallory', password: PASSWORD }),
    });
    auth = `Bearer ${login.body.accessToken}`;
    const project = await new ApiClient(testApp, auth).createProject('classification', ['cat']);
    uploadPath = `/v1/projects/${project.id}/images`;
    [png, ...separated] = await colouredSquares(RED, 3, 3);
  }, 60_000);

  afterAll(async () => {
    await testApp?.destroy();
  });

  it('takes a well-formed upload sent the same raw way (the attacks below differ from it in one thing each)', async () => {
    const answer = await exchange(
      baseUrl,
      request(multipart([{ name: 'images', filename: 'ok.png', body: png }])),
      'hold',
    );
    expect(answer.status).toBe(201);
  });

  it('refuses a multipart content type without a boundary with 400 INVALID_MULTIPART', async () => {
    const body = multipart([{ name: 'images', filename: 'a.png', body: png }]);
    const answer = await attack(() => exchange(baseUrl, request(body, { contentType: 'multipart/form-data' }), 'hold'));
    expectRefused(answer, 400, 'INVALID_MULTIPART');
  });

  it('refuses a body whose final boundary never comes with 400 INVALID_MULTIPART', async () => {
    const body = multipart([{ name: 'images', filename: 'a.png', body: png }], false);
    expectRefused(await attack(() => exchange(baseUrl, request(body), 'hold')), 400, 'INVALID_MULTIPART');
  });

  it('refuses 5,000 tiny text parts with 413 TOO_MANY_FIELDS', async () => {
    const parts = Array.from({ length: 5000 }, (_, index) => ({ name: `f${index}`, body: 'x' }));
    expectRefused(await attack(() => exchange(baseUrl, request(multipart(parts)), 'hold')), 413, 'TOO_MANY_FIELDS');
  });

  it('refuses 5,000 tiny files with 413 TOO_MANY_FILES', async () => {
    const parts = Array.from({ length: 5000 }, (_, index) => ({ name: 'images', filename: `${index}.png`, body: 'x' }));
    expectRefused(await attack(() => exchange(baseUrl, request(multipart(parts)), 'hold')), 413, 'TOO_MANY_FILES');
  });

  it('refuses a part whose header is 100 KB with 400 INVALID_MULTIPART', async () => {
    const body = multipart([
      { name: 'images', filename: 'a.png', headers: `X-Padding: ${'p'.repeat(100_000)}\r\n`, body: png },
    ]);
    expectRefused(await attack(() => exchange(baseUrl, request(body), 'hold')), 400, 'INVALID_MULTIPART');
  });

  it('refuses a text field sent five times with 400 VALIDATION_FAILED (a label is one string)', async () => {
    const labels = Array.from({ length: 5 }, () => ({ name: 'label', body: 'cat' }));
    const body = multipart([...labels, { name: 'images', filename: 'a.png', body: png }]);
    expectRefused(await attack(() => exchange(baseUrl, request(body), 'hold')), 400, 'VALIDATION_FAILED');
  });

  it('refuses a text field of 1 MB with 413 FIELD_TOO_LARGE', async () => {
    const body = multipart([
      { name: 'label', body: 'c'.repeat(1024 * 1024) },
      { name: 'images', filename: 'a.png', body: png },
    ]);
    expectRefused(await attack(() => exchange(baseUrl, request(body), 'hold')), 413, 'FIELD_TOO_LARGE');
  });

  it('refuses a part whose header names its field 50 times by the last name, 400 UNEXPECTED_FILE_FIELD', async () => {
    const names = Array.from({ length: 50 }, (_, index) => `name="images${index}"`).join('; ');
    const body = multipart([{ name: 'images', disposition: `form-data; ${names}; filename="a.png"`, body: png }]);
    expectRefused(await attack(() => exchange(baseUrl, request(body), 'hold')), 400, 'UNEXPECTED_FILE_FIELD');
  });

  it('refuses file names with NUL or other control characters, or over 255 bytes, with 400 INVALID_FILENAME', async () => {
    const dispositions = [
      `form-data; name="images"; filename*=UTF-8''nul%00name.png`,
      `form-data; name="images"; filename*=UTF-8''bell%07.png`,
      `form-data; name="images"; filename="${'n'.repeat(10 * 1024)}.png"`,
    ];
    for (const disposition of dispositions) {
      const body = multipart([{ name: 'images', disposition, contentType: 'image/png', body: png }]);
      expectRefused(await attack(() => exchange(baseUrl, request(body), 'hold')), 400, 'INVALID_FILENAME');
    }
  });

  it('refuses a raw NUL byte in a part header with 400 INVALID_MULTIPART', async () => {
    const body = multipart([{ name: 'images', filename: 'nul\u0000name.png', body: png }]);
    expectRefused(await attack(() => exchange(baseUrl, request(body), 'hold')), 400, 'INVALID_MULTIPART');
  });

  it('keeps only the last segment of a file name with path separators (as browsers send folders), nothing written elsewhere', async () => {
    const body = multipart([
      { name: 'images', filename: '../../../etc/evil.png', body: separated[0] },
      { name: 'images', filename: 'C:\\Users\\me\\evil2.png', body: separated[1] },
    ]);
    const answer = await exchange(baseUrl, request(body), 'hold');
    expect({ status: answer.status, items: answer.body.items }).toEqual({
      status: 201,
      items: [
        expect.objectContaining({ filename: 'evil.png', status: 'created' }),
        expect.objectContaining({ filename: 'evil2.png', status: 'created' }),
      ],
    });
  });

  it('refuses a part that says it is an image but is not one, per file (400 when none is an image)', async () => {
    const body = multipart([
      { name: 'images', filename: 'a.png', contentType: 'image/png', body: 'MZ\x90\x00 an executable' },
      { name: 'images', filename: 'b.png', contentType: 'application/x-msdownload', body: '<svg onload=alert(1)>' },
    ]);
    const answer = await attack(() => exchange(baseUrl, request(body), 'hold'));
    expectRefused(answer, 400, 'UNSUPPORTED_IMAGE');
  });

  it('refuses a body that ends in the middle of a part with 400 INVALID_MULTIPART', async () => {
    const whole = multipart([{ name: 'images', filename: 'a.png', body: png }]);
    const cut = whole.subarray(0, whole.length - 40);
    const answer = await attack(() => exchange(baseUrl, request(cut, { declared: cut.length }), 'hold'));
    expectRefused(answer, 400, 'INVALID_MULTIPART');
  });

  it('drops a body shorter than its Content-Length when the client closes its side, without writing anything', async () => {
    const whole = multipart([{ name: 'images', filename: 'a.png', body: png }]);
    const answer = await attack(() => exchange(baseUrl, request(whole, { declared: whole.length + 1000 }), 'end'));
    // A client that closes its side gets no answer from Node's server (it ends the connection at once); what
    // matters is that nothing is written and the api goes on.
    expect(answer.status).toBe(0);
  });

  it('refuses a Content-Length smaller than the body with 400 INVALID_MULTIPART, the rest not read as a request', async () => {
    const whole = multipart([{ name: 'images', filename: 'a.png', body: png }]);
    const answer = await attack(() => exchange(baseUrl, request(whole, { declared: whole.length - 60 }), 'hold'));
    expectRefused(answer, 400, 'INVALID_MULTIPART');
  });
});
