import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import { aiPlatformJourneys } from './ai-platform.ts';
import type { Journey } from './journey.ts';

/** Journeys by system (infra/<system>); more as systems gain a UI. */
const JOURNEYS: Record<string, Journey[]> = {
  'ai-platform': aiPlatformJourneys,
};

export function journeyOf(system: string, name: string): Journey {
  const list = JOURNEYS[path.basename(system)] ?? [];
  const j = list.find((x) => x.name === name);
  if (!j)
    throw new TwinError(
      'TWIN_EXPERIMENT_INVALID',
      `journey ${JSON.stringify(name)}: system ${system} has ${list.length > 0 ? `the journeys ${list.map((x) => x.name).join(', ')}` : 'no browser journeys'} (harness/journeys/journeys.ts)`,
    );
  return j;
}
