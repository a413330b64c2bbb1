import { defineConfig } from 'vite';

/**
 * The dashboard's build: `npx vite build --config dashboard/vite.config.ts` writes a static page to
 * dist/dashboard/ at the repository root, which the gateway serves at `/`. Asset paths are relative (`base: './'`)
 * so the page works under any path prefix a proxy gives it, and nothing is fetched from another origin at run
 * time (no CDN fonts or icons).
 *
 * `vite dev` / `vite preview` with this config proxy the gateway's paths to `TICKWIRE_GATEWAY` (default
 * http://localhost:7000), so the page can be worked on against a running `npm run demo`.
 */
const gateway = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
  .TICKWIRE_GATEWAY;
const target = gateway ?? 'http://localhost:7000';
/** A file path of this folder (URL-decoded: a checkout path may hold spaces). */
const here = (relative: string): string => decodeURIComponent(new URL(relative, import.meta.url).pathname);
const proxy = {
  '/api': { target },
  '/health': { target },
  '/ws': { target, ws: true },
};

export default defineConfig({
  root: here('.'),
  base: './',
  build: {
    outDir: here('../dist/dashboard'),
    emptyOutDir: true,
    // lightweight-charts alone is ~170 kB minified; one chunk keeps the page a single request.
    chunkSizeWarningLimit: 600,
  },
  server: { proxy },
  preview: { proxy },
});
