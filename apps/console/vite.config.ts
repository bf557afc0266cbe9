import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.DIYML_API ?? 'http://localhost:3000';

/**
 * The console is built into dist/console, which the api serves at `/`. Vite transforms TSX itself (automatic
 * JSX runtime). `npx vite apps/console` serves it with hot reload, passing API calls to a running api.
 */
export default defineConfig({
  root,
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts: the api's Content-Security-Policy allows same-origin scripts only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      // TanStack Query marks modules "use client" for React Server Components, which a single-page app ignores.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    proxy: Object.fromEntries(['/v1', '/docs-json', '/health'].map((path) => [path, api])),
  },
});
