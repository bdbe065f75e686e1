let guarded = false;

/**
 * Progress lines for long steps, written straight to the terminal's stderr so they show while a
 * step runs (Vitest buffers console output of a running test). A terminal or parent that went away
 * (EPIPE while a teardown still reports) loses the lines, never the teardown.
 */
export function progress(message: string): void {
  if (process.env['TWIN_QUIET'] === '1') return;
  if (!guarded) {
    guarded = true;
    process.stderr.on('error', () => {});
  }
  const stamp = new Date().toISOString().slice(11, 19);
  try {
    process.stderr.write(`[twin ${stamp}] ${message}\n`);
  } catch {}
}
