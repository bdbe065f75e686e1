import type { LabelSelector } from '../../kube/labels.ts';
import type { KubeObject } from '../../kube/object.ts';

/** The argoproj.io/v1alpha1 shapes the twin reads and writes, typed as loosely as the API allows. */
export const ARGO_API_VERSION = 'argoproj.io/v1alpha1';

export type IntOrString = number | string;

export interface AnalysisArg {
  name: string;
  value?: string;
  valueFrom?: {
    podTemplateHashValue?: 'Stable' | 'Latest';
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
  };
}

export interface RolloutAnalysis {
  templates?: Array<{ templateName: string; clusterScope?: boolean }>;
  args?: AnalysisArg[];
  startingStep?: number;
}

export interface SetCanaryScale {
  replicas?: number;
  weight?: number;
  matchTrafficWeight?: boolean;
}

export interface CanaryStep {
  setWeight?: number;
  pause?: { duration?: number | string };
  analysis?: RolloutAnalysis;
  setCanaryScale?: SetCanaryScale;
  experiment?: unknown;
  setHeaderRoute?: unknown;
  setMirrorRoute?: unknown;
}

export interface AlbTrafficRouting {
  ingress?: string;
  ingresses?: string[];
  servicePort: number | string;
  rootService?: string;
  annotationPrefix?: string;
}

export interface CanaryStrategy {
  canaryService?: string;
  stableService?: string;
  steps?: CanaryStep[];
  analysis?: RolloutAnalysis;
  trafficRouting?: { alb?: AlbTrafficRouting; [router: string]: unknown };
  maxSurge?: IntOrString;
  maxUnavailable?: IntOrString;
  scaleDownDelaySeconds?: number;
  abortScaleDownDelaySeconds?: number;
}

export interface RolloutSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: unknown;
  };
  strategy?: { canary?: CanaryStrategy; blueGreen?: unknown };
  paused?: boolean;
  minReadySeconds?: number;
}

export interface PauseCondition {
  reason: string;
  startTime: string;
}

export interface RolloutCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

export interface RunStatusRef {
  name: string;
  status: string;
  message?: string;
}

export interface WeightDestination {
  weight: number;
  podTemplateHash?: string;
  serviceName?: string;
}

export interface RolloutStatus {
  phase?: string;
  message?: string;
  observedGeneration?: string;
  currentPodHash?: string;
  stableRS?: string;
  currentStepIndex?: number;
  currentStepHash?: string;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  selector?: string;
  abort?: boolean;
  abortedAt?: string;
  promoteFull?: boolean;
  controllerPause?: boolean;
  pauseConditions?: PauseCondition[];
  conditions?: RolloutCondition[];
  canary?: {
    currentStepAnalysisRunStatus?: RunStatusRef;
    currentBackgroundAnalysisRunStatus?: RunStatusRef;
    weights?: { canary: WeightDestination; stable: WeightDestination; verified?: boolean };
  };
}

export type Rollout = KubeObject<RolloutSpec, RolloutStatus>;

export interface Metric {
  name: string;
  interval?: string;
  initialDelay?: string;
  count?: IntOrString;
  successCondition?: string;
  failureCondition?: string;
  failureLimit?: IntOrString;
  inconclusiveLimit?: IntOrString;
  consecutiveErrorLimit?: IntOrString;
  provider: Record<string, any>;
}

export type AnalysisPhase = 'Pending' | 'Running' | 'Successful' | 'Failed' | 'Error' | 'Inconclusive';

export interface Measurement {
  phase: AnalysisPhase;
  value?: string;
  startedAt: string;
  finishedAt?: string;
  message?: string;
  metadata?: Record<string, string>;
}

export interface MetricResult {
  name: string;
  phase: AnalysisPhase;
  measurements: Measurement[];
  message?: string;
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  consecutiveError: number;
  metadata?: Record<string, string>;
}

export interface AnalysisRunSpec {
  metrics: Metric[];
  args?: AnalysisArg[];
  terminate?: boolean;
}

export interface AnalysisRunStatus {
  phase: AnalysisPhase;
  message?: string;
  startedAt?: string;
  metricResults?: MetricResult[];
}

export type AnalysisRun = KubeObject<AnalysisRunSpec, AnalysisRunStatus>;

export function isCompleted(phase: string | undefined): boolean {
  return phase === 'Successful' || phase === 'Failed' || phase === 'Error' || phase === 'Inconclusive';
}
