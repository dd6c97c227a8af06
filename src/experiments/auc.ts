// Table 2: warm/cold AUC of every method on one prepared split, mean ± sd over runs with
// different training seeds (the split itself stays fixed). Same candidates, same AUC code.
import type { Split } from '../data/types.js';
import type { Progress } from '../progress.js';
import { paperConfig, resolveConfig, type TrainConfig } from '../model/config.js';
import { trainEmbeddings, trainVasg } from '../model/train.js';
import { scoringFactors, type VasgModel } from '../model/vasg-model.js';
import { evaluateAuc, type AucResult, type FactorScorer, type Scorer } from '../eval/auc.js';
import { mostPopScorer, oracleScorer, randScorer, wboiScorer } from '../eval/baselines.js';
import { trainBprMf } from '../baselines/bpr.js';
import { trainVbpr } from '../baselines/vbpr.js';
import { easeScorer, tunedEase } from '../baselines/ease.js';
import { ialsScorer, tunedIals } from '../baselines/ials.js';
import { tunedContentCf } from '../baselines/content-cf.js';
import { summarize, type Stat } from './stats.js';

export interface AucRow {
  method: string;
  warm: Stat;
  cold: Stat;
  /** Eq. 4 over warm and cold test pairs with one ranking. */
  combined: Stat;
  'recall@20': { warm: Stat; cold: Stat };
  'ndcg@20': { warm: Stat; cold: Stat };
}

export interface ExperimentOptions {
  runs: number;
  seed: number;
  threads: number;
  /** Training settings shared by VASG and its ablations. */
  config: Partial<TrainConfig>;
  progress: Progress;
  /** Folder that products' relative image_url paths are in (thumbnails in figures). */
  images?: string;
}

/** A method that yields one or more scorers (table rows) for a given run seed. */
export interface Method {
  name: string;
  /** False for methods whose result does not depend on the seed (computed once). */
  seeded: boolean;
  scorers(split: Split, seed: number, options: ExperimentOptions): Promise<Scorer[]>;
}

const trained = new Map<string, Promise<VasgModel>>();

/** Trains once per (split, config) in this process: `experiment all` reuses models across experiments. */
export function trainedModel(split: Split, config: TrainConfig, progress: Progress): Promise<VasgModel> {
  const key = `${split.summary.seed}:${split.userIds.length}:${split.itemIds.length}:${JSON.stringify(config)}`;
  let model = trained.get(key);
  if (!model) {
    model = trainVasg(split, config, progress).then((result) => result.model);
    trained.set(key, model);
  }
  return model;
}

/** The model's own ranking (cosine or dot, as configured) as factors. */
export async function vasgScorer(split: Split, config: TrainConfig, progress: Progress, name: string): Promise<FactorScorer> {
  const { users, items } = (await trainedModel(split, config, progress)).scoringMatrices();
  return { name, users, items };
}

/**
 * The paper's ablation (§6, evaluated there on warm products only): skip-gram without the decoder, hence
 * without an M for cold products. Cold candidates stand in as the mean warm product vector.
 */
async function skipGramScorer(split: Split, config: TrainConfig, progress: Progress): Promise<FactorScorer> {
  const { graph, vectors } = await trainEmbeddings(split, { ...config, decoder: false, visual: false, rankEpochs: 0 }, progress);
  const dim = config.dim;
  const mean = new Float32Array(dim);
  for (let node = graph.nUsers; node < graph.nNodes; node++) {
    for (let d = 0; d < dim; d++) mean[d] += vectors[node * dim + d] / (graph.nNodes - graph.nUsers);
  }
  const items = new Float32Array(split.itemIds.length * dim);
  for (let i = 0; i < split.itemIds.length; i++) {
    const node = graph.itemNode[i];
    items.set(node >= 0 ? vectors.subarray(node * dim, (node + 1) * dim) : mean, i * dim);
  }
  const users = { data: vectors.slice(0, graph.nUsers * dim), rows: graph.nUsers, cols: dim };
  const scored = scoringFactors(users, { data: items, rows: split.itemIds.length, cols: dim }, config.scoring);
  return { name: 'Skip-Gram', ...scored, warmOnly: true };
}

const vasgConfig = (o: ExperimentOptions, seed: number, extra: Partial<TrainConfig> = {}) =>
  resolveConfig({ ...o.config, threads: o.threads, seed, ...extra });

/**
 * Table 2's methods in the paper's order, with MostPop, BPR-MF, the practitioner's first baselines (EASE, iALS,
 * Content→CF: each tuned on a validation split carved from training with the base seed, once per process) and
 * the Oracle added.
 */
export const tableMethods: Method[] = [
  { name: 'RAND', seeded: true, scorers: async (split, seed) => [randScorer(split, seed)] },
  { name: 'MostPop', seeded: false, scorers: async (split) => [mostPopScorer(split)] },
  { name: 'WBOI', seeded: false, scorers: async (split) => [wboiScorer(split)] },
  {
    name: 'VBPR', seeded: true,
    scorers: async (split, seed, o) => {
      const { scorer, visual } = trainVbpr(split, { seed, threads: o.threads }, o.progress);
      return [scorer, visual];
    },
  },
  { name: 'BPR-MF', seeded: true, scorers: async (split, seed, o) => [trainBprMf(split, { seed, threads: o.threads }, o.progress)] },
  // EASE is deterministic: one fit whatever the run seed.
  { name: 'EASE', seeded: false, scorers: async (split, _seed, o) => [easeScorer((await tunedEase(split, { seed: o.seed, threads: o.threads }, o.progress)).model)] },
  {
    name: 'iALS', seeded: true,
    scorers: async (split, seed, o) => [ialsScorer((await tunedIals(split, { seed, tuneSeed: o.seed, threads: o.threads }, o.progress)).model, split.warm)],
  },
  {
    name: 'Content→CF', seeded: true,
    scorers: async (split, seed, o) => [(await tunedContentCf(split, { seed, tuneSeed: o.seed, threads: o.threads }, o.progress)).scorer],
  },
  { name: 'Skip-Gram', seeded: true, scorers: async (split, seed, o) => [await skipGramScorer(split, vasgConfig(o, seed), o.progress)] },
  { name: 'VASG', seeded: true, scorers: async (split, seed, o) => [await vasgScorer(split, vasgConfig(o, seed), o.progress, 'VASG')] },
  {
    name: 'VASG (paper)', seeded: true,
    scorers: async (split, seed, o) => [await vasgScorer(split, vasgConfig(o, seed, paperConfig), o.progress, 'VASG (paper)')],
  },
  {
    name: 'Oracle', seeded: false,
    scorers: async (split) => {
      const oracle = oracleScorer(split);
      return oracle ? [oracle] : [];
    },
  },
];

export interface AucResults {
  rows: AucRow[];
  /** Wall seconds per method, all its runs together (training and evaluation). */
  seconds: Record<string, number>;
}

/** Runs every method `runs` times (once when unseeded) and summarises warm/cold AUC per row. */
export async function aucExperiment(split: Split, methods: Method[], options: ExperimentOptions): Promise<AucResults> {
  const results = new Map<string, AucResult[]>();
  const seconds: Record<string, number> = {};
  for (const method of methods) {
    const runs = method.seeded ? options.runs : 1;
    const started = Date.now();
    for (let run = 0; run < runs; run++) {
      options.progress.log(`${method.name}: run ${run + 1}/${runs}`);
      for (const scorer of await method.scorers(split, options.seed + run, options)) {
        const result = await evaluateAuc(scorer, split, options.threads);
        results.set(scorer.name, [...(results.get(scorer.name) ?? []), result]);
      }
    }
    seconds[method.name] = (Date.now() - started) / 1000;
  }
  return { rows: Array.from(results, ([method, runs]) => summarizeRuns(method, runs)), seconds };
}

function summarizeRuns(method: string, runs: AucResult[]): AucRow {
  const stat = (pick: (r: AucResult) => number) => summarize(runs.map(pick));
  return {
    method,
    warm: stat((r) => r.warm),
    cold: stat((r) => r.cold),
    combined: stat((r) => r.combined),
    'recall@20': { warm: stat((r) => r.recallAt20.warm), cold: stat((r) => r.recallAt20.cold) },
    'ndcg@20': { warm: stat((r) => r.ndcgAt20.warm), cold: stat((r) => r.ndcgAt20.cold) },
  };
}
