import { accessSync, chmodSync, constants, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { TwinError } from '../../core/errors.ts';

/** Where Chromium is looked for when neither the option nor TWIN_CHROMIUM names it. */
const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/**
 * Flags for headless Chromium on CI machines and containers (shared/FINDINGS.md "Browser"): no sandbox
 * (root, no user namespaces), no GPU, nothing fetched in the background.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * The Chromium to drive: `executablePath` if given, else $TWIN_CHROMIUM, else the first of chromium,
 * chromium-browser, google-chrome on the PATH. playwright-core downloads no browser of its own.
 */
export function findChromium(executablePath?: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = executablePath ?? env['TWIN_CHROMIUM'];
  if (given) {
    if (!isExecutable(given))
      throw new TwinError(
        'TWIN_BROWSER_NOT_FOUND',
        `${executablePath ? 'executablePath' : 'TWIN_CHROMIUM'}=${given}: no executable there; give the path of a Chromium or Chrome binary`,
      );
    return given;
  }
  for (const dir of (env['PATH'] ?? '').split(path.delimiter).filter(Boolean))
    for (const name of CANDIDATES) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  throw new TwinError(
    'TWIN_BROWSER_NOT_FOUND',
    `no Chromium found for the browser journeys (looked for ${CANDIDATES.join(', ')} on the PATH): install Debian's chromium (apt-get install -y chromium) or set TWIN_CHROMIUM to a Chromium or Chrome binary`,
  );
}

export function hasChromium(): boolean {
  try {
    findChromium();
    return true;
  } catch {
    return false;
  }
}

/**
 * Launches headless Chromium. By default at the lowest CPU priority (`nice -n 19`, where `nice` exists):
 * a journey watches the system under test and must not slow it down (on a busy two-core machine a
 * browser at normal priority delays the twin's timers); its own timings then include waiting for CPU.
 */
export async function launchChromium(
  executablePath?: string,
  options: { lowPriority?: boolean } = {},
): Promise<Browser> {
  const binary = findChromium(executablePath);
  const nice = options.lowPriority === false ? undefined : onPath('nice');
  return chromium.launch({
    executablePath: nice ? niceWrapper(nice, binary) : binary,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** A one-line script that execs the browser under `nice -n 19` (its renderers inherit the priority). */
function niceWrapper(nice: string, binary: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'twin-chromium-')), 'chromium');
  writeFileSync(file, `#!/bin/sh\nexec ${JSON.stringify(nice)} -n 19 ${JSON.stringify(binary)} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    if (isExecutable(file)) return file;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
