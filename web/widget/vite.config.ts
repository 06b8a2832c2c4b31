// The end-customer referral widget: one self-contained script (an IIFE, no imports, no CSS file),
// served by `perks serve` at /widget/perks-referral.js and embedded in the product's own pages.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/widget', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    lib: {
      entry: fileURLToPath(new URL('./src/main.ts', import.meta.url)),
      name: 'PerksReferralWidget',
      formats: ['iife'],
      fileName: () => 'perks-referral.js',
    },
  },
});
