#!/usr/bin/env node
// The compiled CLI; `npm ci` builds it through the package's prepare script.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/adapters/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('perks: dist/ is missing; run `npm run build` (npm ci runs it for you).');
  process.exit(1);
}

// In a checkout, a source file changed after the last build means dist/ runs older code than src/:
// say so rather than serve it silently.
const src = fileURLToPath(new URL('../src', import.meta.url));
const built = statSync(fileURLToPath(entry)).mtimeMs;
function newerSource(dir) {
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    if (item.isDirectory()) {
      const found = newerSource(full);
      if (found) return found;
    } else if (!item.name.endsWith('.test.ts') && statSync(full).mtimeMs > built) {
      return full;
    }
  }
  return undefined;
}
const changed = existsSync(src) ? newerSource(src) : undefined;
if (changed) {
  console.error(
    `perks: warning: ${path.relative(process.cwd(), changed)} changed after dist/ was built; ` +
      'this runs the older build. Run `npm run build` to include the change.',
  );
}
await import(entry.href);
