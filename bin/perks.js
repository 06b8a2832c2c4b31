#!/usr/bin/env node
// The compiled CLI; `npm ci` builds it through the package's prepare script.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/adapters/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('perks: dist/ is missing; run `npm run build` (npm ci runs it for you).');
  process.exit(1);
}
await import(entry.href);
