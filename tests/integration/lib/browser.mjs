// Headless Chromium from Debian's `chromium` package, driven by playwright-core (which never
// downloads a browser of its own here: it is given /usr/bin/chromium).

import fs from 'node:fs';

import { chromium } from 'playwright-core';

/** Debian's Chromium, or POSFEED_CHROMIUM. */
export function chromiumPath() {
  const path = process.env.POSFEED_CHROMIUM ?? '/usr/bin/chromium';
  if (!fs.existsSync(path)) {
    throw new Error(`no Chromium at ${path}: scripts/install-deps --test installs Debian's chromium`);
  }
  return path;
}

/**
 * Launches headless Chromium. The flags keep it off the network (this machine's network is
 * closed: background fetches would be refused many at a time) and work as root (no sandbox).
 */
export function launchChromium() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Collects a page's console errors and uncaught exceptions, for assertions and failure messages. */
export function watchPage(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // The test page asks AboutMe at load to find out whether it is logged in: a 401 there is
    // the answer "no", which Chromium logs as a failed resource.
    const aboutMe = m.location().url.endsWith('/openapi/ActiveSession/AboutMe');
    if (m.type() === 'error' && !aboutMe) {
      problems.push(`console: ${m.text()}`);
    }
  });
  return problems;
}
