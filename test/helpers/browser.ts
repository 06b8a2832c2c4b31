import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WEB_DIST } from '../../src/adapters/http/web_assets.js';
import { serve } from '../../src/main.js';
import { freshDataDir, ROOT } from './processes.js';

/**
 * End-to-end browser tests drive Debian's Chromium through playwright-core against a real
 * `perks serve` (embedded store, background workers on) listening on a free port.
 */
export const CHROMIUM = process.env.PERKS_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');

/**
 * Why the browser tests cannot run here, or undefined when they can. Without Chromium they are
 * skipped with that reason, unless PERKS_REQUIRE_BROWSER=1 (CI sets it), where its absence fails.
 */
export function browserUnavailable(): string | undefined {
  if (existsSync(CHROMIUM)) {
    if (!existsSync(path.join(WEB_DIST, 'dashboard', 'index.html')))
      throw new Error(`the web surfaces are not built in ${WEB_DIST}: run \`npm run build:web\``);
    return undefined;
  }
  const reason = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set PERKS_CHROMIUM)`;
  if (process.env.PERKS_REQUIRE_BROWSER === '1') throw new Error(reason);
  return reason;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

export interface LiveServer {
  url: string;
  /** The secret key of the workspace the first run created. */
  key: string;
  stop(): Promise<void>;
}

/** A real server on a fresh embedded store, as `npm start` runs it, on a free port. */
export async function startLiveServer(env: { workers?: boolean } = {}): Promise<LiveServer> {
  const data = await freshDataDir('browser');
  const lines: string[] = [];
  const running = await serve(
    {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: data.dir,
      logLevel: 'warn',
      poolSize: 5,
      stripeApiBase: undefined,
      webhooksAllowPrivate: 'loopback',
      workers: env.workers ?? true,
    },
    (line) => lines.push(line),
  );
  const key = lines.map((l) => l.trim()).find((l) => /^sk_[A-Za-z0-9]{43}$/.test(l));
  if (!key) throw new Error(`the first run printed no key:\n${lines.join('\n')}`);
  return {
    url: running.url,
    key,
    async stop() {
      await running.stop();
      data.remove();
    },
  };
}

/** Writes a full-page screenshot to test-artifacts/screenshots/NAME.png (not committed). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Signs in to the dashboard with a secret key, the way an operator does. */
export async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(`${url}/dashboard/`);
  await page.getByLabel('Secret key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Sections' }).waitFor();
}
