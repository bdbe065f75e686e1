/**
 * How emulated containers move through their lifecycle, as data (kwok's Stages, reduced to delays):
 * each entry is the control-plane time a transition takes. A pod may override any of them with an
 * annotation `twin.dev/<field>` in seconds (e.g. `twin.dev/run-seconds: "120"` for a Job's work).
 */
export interface EmulatedLifecycle {
  /** Image pull and container creation until the container runs. */
  startSeconds: number;
  /** How long a container of a run-to-completion pod (restartPolicy Never/OnFailure) works before exiting 0. */
  runSeconds: number;
}

export const DEFAULT_EMULATED_LIFECYCLE: EmulatedLifecycle = { startSeconds: 1, runSeconds: 10 };

export function emulatedLifecycleFor(annotations: Record<string, string> | undefined): EmulatedLifecycle {
  const pick = (key: string, fallback: number) => {
    const v = Number(annotations?.[`twin.dev/${key}`]);
    return Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  return {
    startSeconds: pick('start-seconds', DEFAULT_EMULATED_LIFECYCLE.startSeconds),
    runSeconds: pick('run-seconds', DEFAULT_EMULATED_LIFECYCLE.runSeconds),
  };
}
