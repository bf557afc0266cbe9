import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackboneDescriptor, selectBackend } from '@diyml/ml';
import { tinyBackboneDescriptor, tinyBackboneModel } from '@diyml/ml/testing/tiny-backbone.js';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * A model host on this machine serving the tiny backbone, configured as the URL backbone `id` in a backbones file,
 * as an operator would: pass `BACKBONES_FILE: host.backbonesFile` to the app. `others` adds entries to that file
 * from the served URL and checksums (a tampered or unreachable copy, say). `close()` stops it and removes the file.
 */
export async function startBackboneHost(
  id: string,
  others: (served: { url: string; sha256: Record<string, string> }) => BackboneDescriptor[] = () => [],
): Promise<{ backbonesFile: string; close(): Promise<void> }> {
  await selectBackend('cpu');
  const model = await tinyBackboneModel();
  const files: Record<string, Uint8Array | string> = { 'model.json': model.modelJson, 'weights.bin': model.weights };
  const server = createServer((request, response) => {
    const body = files[new URL(request.url!, 'http://x').pathname.slice(1)];
    if (body === undefined) return void response.writeHead(404).end();
    response.writeHead(200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`;
  const configDir = mkdtempSync(join(tmpdir(), 'diyml-backbones-config-'));
  const backbonesFile = join(configDir, 'backbones.json');
  const sums = { 'model.json': sha256(model.modelJson), 'weights.bin': sha256(model.weights) };
  writeFileSync(
    backbonesFile,
    JSON.stringify([tinyBackboneDescriptor(id, { kind: 'url', url, sha256: sums }), ...others({ url, sha256: sums })]),
  );
  return {
    backbonesFile,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}
