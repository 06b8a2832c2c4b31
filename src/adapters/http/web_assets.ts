import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PerksError } from '../../core/errors.js';

/**
 * The built web surfaces (`npm run build` writes them to web/dist/). The same path works from
 * src/ (tests, tsx) and from dist/ (npm start), both three levels below the package root.
 */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Every file below `dir`, as paths relative to it with forward slashes. */
function listFiles(dir: string, prefix = ''): Set<string> {
  const out = new Set<string>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) for (const f of listFiles(full, `${prefix}${name}/`)) out.add(f);
    else out.add(`${prefix}${name}`);
  }
  return out;
}

// The dashboard renders charts with inline styles and talks only to this origin.
const DASHBOARD_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Serves the operator dashboard at /dashboard/: its hashed assets as long-lived files, and its
 * index.html for every other path below it, so a page of the single-page app can be reloaded.
 */
export async function registerDashboard(app: FastifyInstance): Promise<void> {
  const root = path.join(WEB_DIST, 'dashboard');
  const files = listFiles(root);
  await app.register(fastifyStatic, { root, serve: false });

  // The server ignores trailing slashes when routing, so /dashboard and /dashboard/ meet here; the
  // app's relative asset paths need the slash.
  app.get('/dashboard', { schema: { hide: true } }, async (req, reply) => {
    if (!req.url.split('?')[0]!.endsWith('/')) return reply.redirect('/dashboard/', 301);
    return serveFile(req, reply);
  });
  app.get('/dashboard/*', { schema: { hide: true } }, async (req, reply) => serveFile(req, reply));

  async function serveFile(req: FastifyRequest, reply: FastifyReply) {
    if (!files.has('index.html')) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(
          'The dashboard is not built: run `npm run build` (npm ci and npm install do it), then restart Perks.',
        );
    }
    const wanted = (req.params as { '*'?: string })['*'];
    reply.header('content-security-policy', DASHBOARD_CSP);
    reply.header('x-content-type-options', 'nosniff');
    if (wanted && files.has(wanted) && wanted !== 'index.html') {
      // Vite names built assets by their content hash, so they never change under one name.
      if (wanted.startsWith('assets/')) reply.header('cache-control', 'public, max-age=31536000, immutable');
      return reply.sendFile(wanted, root);
    }
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', root);
  }
}

/** Where the embeddable referral widget is served, and its file in the build. */
export const WIDGET_PATH = '/widget/perks-referral.js';
export const WIDGET_FILE = path.join(WEB_DIST, 'widget', 'perks-referral.js');

/**
 * Serves the referral widget script to any origin: the product's pages load it with a script tag,
 * so it carries `cross-origin-resource-policy: cross-origin` and `access-control-allow-origin: *`
 * (a module script is fetched in CORS mode). The name does not change between releases, so it is
 * cached briefly and revalidated by ETag. It is read and gzipped once per build, not per request.
 */
export async function registerWidget(app: FastifyInstance): Promise<void> {
  let cached: { mtime_ms: number; etag: string; raw: Buffer; gzip: Buffer } | undefined;
  const load = () => {
    const stat = statSync(WIDGET_FILE, { throwIfNoEntry: false });
    if (!stat) return undefined;
    if (cached?.mtime_ms !== stat.mtimeMs) {
      const raw = readFileSync(WIDGET_FILE);
      const etag = `"${createHash('sha256').update(raw).digest('base64url').slice(0, 27)}"`;
      cached = { mtime_ms: stat.mtimeMs, etag, raw, gzip: gzipSync(raw, { level: 9 }) };
    }
    return cached;
  };

  app.get(WIDGET_PATH, { schema: { hide: true } }, async (req, reply) => {
    const file = load();
    if (!file) {
      throw new PerksError(
        'service_unavailable',
        'the widget is not built: run `npm run build` (npm ci and npm install do it), then restart Perks',
      );
    }
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=600')
      .header('etag', file.etag)
      .header('vary', 'accept-encoding')
      .header('access-control-allow-origin', '*')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('x-content-type-options', 'nosniff');
    const seen = req.headers['if-none-match'];
    if (seen && seen.split(',').some((t) => t.trim().replace(/^W\//, '') === file.etag)) {
      return reply.code(304).send();
    }
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      return reply.header('content-encoding', 'gzip').send(file.gzip);
    }
    return reply.send(file.raw);
  });
}
