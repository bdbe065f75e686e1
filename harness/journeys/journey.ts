import type { Page } from 'playwright-core';

/** A person's path through a system's UI, run in a real browser as a steady-state probe. */
export interface Journey {
  name: string;
  /** What the person does, in their words. */
  description: string;
  /** The Ingress the journey starts from. */
  ingress: { namespace: string; name: string };
  /** Drives the page from the entry URL; throws with what the person saw when a step fails. */
  run(page: Page, baseUrl: string, timeoutMs: number): Promise<void>;
}
