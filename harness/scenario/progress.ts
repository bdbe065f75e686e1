/**
 * Progress lines for long steps, written straight to the terminal's stderr so they show while a
 * step runs (Vitest buffers console output of a running test).
 */
export function progress(message: string): void {
  if (process.env['TWIN_QUIET'] === '1') return;
  const stamp = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[twin ${stamp}] ${message}\n`);
}
