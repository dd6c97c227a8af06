// The library entry (`import { train, VasgModel, loadDataset, evaluate } from 'vasg'`): the same stages the CLI runs.
import type { Dataset, Split } from './data/types.js';
import { asSplit } from './methods/artifact.js';
import { defaultThreads } from './core/options.js';
import { resolveConfig, type TrainConfig } from './model/config.js';
import { trainVasg, type TrainResult } from './model/train.js';
import { evaluateModel, type EvaluationReport } from './eval/evaluate.js';
import type { VasgModel } from './model/vasg-model.js';
import { silentProgress, type Progress } from './progress.js';

export { VasgModel, type MethodInfo, type Recommendation, type RecommendOptions } from './model/vasg-model.js';
export { loadDataset, writeDataset } from './data/dataset.js';
export { prepareSplit, loadSplit, writeSplit, type SplitOptions } from './data/split.js';
export { prepareTimeSplit, DEFAULT_TEST_FRACTION, type TimeSplitOptions } from './data/time-split.js';
export { productionSplit, loadTrainingData, type TrainingLayout } from './data/production.js';
export { generate, PRESETS, type PresetName } from './data/generate.js';
export { resolveConfig, defaultConfig, paperConfig, CONFIG_OPTIONS, type ConfigOption, type TrainConfig } from './model/config.js';
export { consoleProgress, silentProgress, type Progress } from './progress.js';
export type { Dataset, Split, Matrix, HalfMatrix, Features, Interactions, ItemMeta } from './data/types.js';
export type { TrainResult } from './model/train.js';
export type { EvaluationReport } from './eval/evaluate.js';
export { VasgError, InputError, ConfigError, UnknownIdError, ModelFormatError, UnsupportedError } from './errors.js';
export { evaluateAuc, type BlockScorer, type EvaluationResult, type FactorScorer, type Scorer } from './eval/auc.js';
export {
  DEFAULT_KS, catalogueCoverage, coldExposure, coldTestShare, ndcgAtK, popularityPercentiles, rankMetrics, recallAtK,
  type ListMetrics, type TopKMetrics, type WarmColdAll,
} from './eval/topk.js';

// One contract for every model (docs/library.md): the registry of methods, their adapters and option tables.
export type { Capabilities, MethodSpec, Recommender } from './core/recommender.js';
export { EXPERIMENT_ONLY, METHODS, fit, getMethod, loadRecommender, methodNames } from './methods/registry.js';
export type { Method } from './methods/method.js';
export { retrainVasg, vasgMethod } from './methods/vasg.js';
export { pairWeights, parseEventWeights, DEFAULT_EVENT_WEIGHTS, type EventWeights } from './data/events.js';
export { addBrowsing, type BrowsingOptions } from './data/browse.js';
export { replayExperiment, type ReplayResult } from './experiments/replay.js';
export { exportEvents } from './serve/export-events.js';
export { bprMfMethod, ibrMethod, mostPopMethod, vbprMethod, wboiMethod } from './methods/baselines.js';
export { contentCfMethod, ialsMethod } from './methods/ials.js';
export { factorModel, type FactorParts } from './methods/artifact.js';
export { defaultThreads, resolveOptions, type OptionSpec, type ValueType } from './core/options.js';
export { BPR_MF_OPTIONS } from './baselines/bpr.js';
export { VBPR_OPTIONS, type VbprOptions } from './baselines/vbpr.js';
export { IBR_OPTIONS, type IbrConfig } from './baselines/ibr.js';
export { IALS_OPTIONS, type IalsOptions } from './baselines/ials.js';
export { CONTENT_CF_OPTIONS, type ContentCfOptions } from './baselines/content-cf.js';
export type { BprOptions } from './core/bpr-sampling.js';

export interface TrainOptions {
  /** Overrides of the documented defaults (validated: a bad value throws naming the field). */
  config?: Partial<TrainConfig>;
  progress?: Progress;
}

/**
 * Trains VASG on a prepared split (evaluation: `prepareSplit`, then `evaluate`), or on a whole data set
 * (production: every interaction, every catalogue product; never-bought products become cold products).
 */
export async function train(data: Dataset | Split, options: TrainOptions = {}): Promise<TrainResult> {
  const config = resolveConfig(options.config);
  return trainVasg(asSplit(data), config, options.progress ?? silentProgress);
}

/** Warm/cold AUC, Recall@K and NDCG@K (warm, cold, all) and the top-20 list metrics of a model on a split's test set, with the baselines. */
export function evaluate(model: VasgModel, split: Split, options: { threads?: number; seed?: number; progress?: Progress; ks?: number[] } = {}): Promise<EvaluationReport> {
  return evaluateModel(model, split, { threads: options.threads ?? defaultThreads(), seed: options.seed ?? 1, progress: options.progress ?? silentProgress, ks: options.ks });
}

// Nearest-product search: exact (native, off the event loop) or HNSW, behind one interface.
export { createRetriever, ExactRetriever, HnswRetriever, RETRIEVER_KINDS } from './search/index.js';
export type { BatchFilter, HnswOptions, Retriever, RetrieverKind, RetrieverOptions, SearchFilter, SearchResult } from './search/index.js';
