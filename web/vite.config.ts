import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The API a `npm run dev` server forwards to: a node started with
// `make run` unless CASARE_SERVER says otherwise.
const apiTarget = process.env.CASARE_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The bundle is committed and embedded into the Go binary: keep the
    // diff of a rebuild small and the binary lean.
    sourcemap: false,
    reportCompressedSize: true,
    // Swagger UI (the /docs chunk, loaded only there) is about 1.5 MB
    // minified; every chunk of the first view is far below this.
    chunkSizeWarningLimit: 1600,
    // The plugin timing report is noise for a build this small.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
  server: {
    proxy: {
      // ws: the event stream (/api/v1/events) is a WebSocket.
      '/api': { target: apiTarget, ws: true },
      '/health': apiTarget,
      '/metrics': apiTarget,
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
