import { existsSync } from 'node:fs';

/**
 * The Chromium that tests and benchmarks drive (playwright-core downloads no browser): ZKML_CHROMIUM,
 * else Debian's package (`apt-get install chromium`; its /usr/bin wrapper, or the binary behind it).
 */
export function findChromium(): string | undefined {
  return process.env.ZKML_CHROMIUM || ['/usr/bin/chromium', '/usr/lib/chromium/chromium'].find(existsSync);
}

/** Headless, and without Chromium's sandbox, which refuses to start as root (CI). */
export const chromiumLaunchArgs = { headless: true, args: ['--no-sandbox'] };
