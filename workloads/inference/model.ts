import { readFile } from 'node:fs/promises';

/** A logistic-regression model as shipped in model.json. */
export interface Model {
  name: string;
  version: string;
  features: string[];
  weights: number[];
  bias: number;
  threshold: number;
  labels: { negative: string; positive: string };
}

export interface Score {
  score: number;
  label: string;
  model_version: string;
}

export async function loadModel(path: string): Promise<Model> {
  const model = JSON.parse(await readFile(path, 'utf8')) as Partial<Model>;
  const ok =
    typeof model.version === 'string' &&
    Array.isArray(model.features) &&
    Array.isArray(model.weights) &&
    model.features.length === model.weights.length &&
    model.weights.every((w) => Number.isFinite(w)) &&
    Number.isFinite(model.bias);
  if (!ok) throw new Error(`${path}: not a model (needs version, features, weights of equal length, bias)`);
  return {
    name: model.name ?? 'model',
    version: model.version as string,
    features: model.features as string[],
    weights: model.weights as number[],
    bias: model.bias as number,
    threshold: model.threshold ?? 0.5,
    labels: model.labels ?? { negative: 'negative', positive: 'positive' },
  };
}

export function score(model: Model, features: number[]): Score {
  const z = model.weights.reduce((sum, w, i) => sum + w * features[i]!, model.bias);
  const p = 1 / (1 + Math.exp(-z));
  return {
    score: Math.round(p * 1e6) / 1e6,
    label: p >= model.threshold ? model.labels.positive : model.labels.negative,
    model_version: model.version,
  };
}
