/** What one scenario run leaves behind: the source of result.json, report.html and junit.xml. */
export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface RunStep {
  name: string;
  status: StepStatus;
  startedAt: string;
  finishedAt: string;
  error?: string;
}

export interface RunMeasurement {
  name: string;
  value: number;
  unit: string;
  /** How it was judged, e.g. "≤ 300 ms". */
  assertion?: string;
  passed?: boolean;
  description?: string;
}

export interface TimelineSample {
  /** Control-plane milliseconds since the run started. */
  t: number;
  /**
   * Values by series key (see series.ts): 'rps{service=production/api,version=1.0.0}' in requests/s,
   * 'errorRate{…}' as a fraction from 0 to 1, 'p95{…}' in milliseconds, 'replicas{workload=…,version=…}'.
   * null where the series has no value at that time.
   */
  series: Record<string, number | null>;
}

export interface TimelineEvent {
  /** Control-plane milliseconds since the run started. */
  t: number;
  kind: string;
  /** The object it is about, "Rollout production/api". */
  object?: string;
  message: string;
  type?: 'Normal' | 'Warning';
}

export interface RunRecord {
  runId: string;
  scenario: string;
  environment: string;
  system: string;
  /** Control-plane time per real time: 60 means a 10-minute pause took 10 s. 1 on real clusters. */
  timeScale: number;
  startedAt: string;
  finishedAt: string;
  status: 'passed' | 'failed';
  steps: RunStep[];
  measurements: RunMeasurement[];
  timeline: {
    /** Sampled about every 250 ms of real time. */
    samples: TimelineSample[];
    events: TimelineEvent[];
  };
  /** e.g. "control-plane time scale ×60: a 10-minute pause took 10 s" */
  notes: string[];
}
