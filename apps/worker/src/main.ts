import { enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// V8 keeps the compiled code of the modules the worker loads on disk and reuses it at the next start, which then
// costs less CPU (~20% of the api's start). Set as a variable too, so the worker threads (training, embeddings)
// keep and reuse theirs. Enabled before the app's own modules are imported.
process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'node-compile-cache');
enableCompileCache();
await import('./server.js');
