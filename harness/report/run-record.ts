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

/**
 * One measurement of a canary analysis as the AnalysisRun recorded it: for the prometheus provider
 * the PromQL (Argo's ResolvedPrometheusQuery) and the value Prometheus returned ("[0.012]"), for
 * the web provider the URL and jsonPath and the value found there.
 */
export interface AnalysisMeasurement {
  /** Control-plane milliseconds since the run started (when the measurement started). */
  t: number;
  /** "production/api-6d9f7-2-1". */
  analysisRun: string;
  metric: string;
  provider: string;
  /** What was asked: the PromQL, or the web provider's URL (and jsonPath). */
  query: string;
  /** successCondition / failureCondition, as the template states them. */
  condition?: string;
  phase: string;
  value?: string;
  message?: string;
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
  /** Every analysis measurement seen during the run, in time order. */
  analysis?: AnalysisMeasurement[];
  timeline: {
    /** Sampled about every 250 ms of real time. */
    samples: TimelineSample[];
    events: TimelineEvent[];
  };
  /** e.g. "control-plane time scale ×60: a 10-minute pause took 10 s" */
  notes: string[];
  /** What a failed browser journey left: a screenshot and a Playwright trace, relative to the report. */
  attachments?: RunAttachment[];
}

export interface RunAttachment {
  /** "during: predict journey #3: the prediction failed: 502 …" */
  title: string;
  /** Control-plane ms since the run started. */
  t?: number;
  /** A PNG, relative to the report directory (embedded in report.html). */
  screenshot?: string;
  /** A Playwright trace (npx playwright show-trace <file>), relative to the report directory. */
  trace?: string;
}
