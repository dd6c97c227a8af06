// Table 2: warm/cold AUC of every method on one prepared split, mean ± sd over runs with
// different training seeds (the split itself stays fixed). Same candidates, same AUC code.
import type { Split } from '../data/types.js';
import type { Progress } from '../progress.js';
import { resolveConfig, type TrainConfig } from '../model/config.js';
import { trainVasg } from '../model/train.js';
import type { VasgModel } from '../model/vasg-model.js';
import { evaluateAuc, type FactorScorer } from '../eval/auc.js';
import { mostPopScorer, oracleScorer, randScorer, wboiScorer } from '../eval/baselines.js';
import { trainBprMf } from '../baselines/bpr.js';
import { trainVbpr } from '../baselines/vbpr.js';
import { summarize, type Stat } from './stats.js';

export interface AucRow {
  method: string;
  warm: Stat;
  cold: Stat;
}

export interface ExperimentOptions {
  runs: number;
  seed: number;
  threads: number;
  /** Training settings shared by VASG and its ablations. */
  config: Partial<TrainConfig>;
  progress: Progress;
}

/** A method that yields one or more scorers (table rows) for a given run seed. */
export interface Method {
  name: string;
  /** False for methods whose result does not depend on the seed (computed once). */
  seeded: boolean;
  scorers(split: Split, seed: number, options: ExperimentOptions): Promise<FactorScorer[]>;
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

const vasgConfig = (o: ExperimentOptions, seed: number, extra: Partial<TrainConfig> = {}) =>
  resolveConfig({ ...o.config, threads: o.threads, seed, ...extra });

/** Table 2's methods in the paper's order, with MostPop, BPR-MF and the Oracle added. */
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
  { name: 'Skip-Gram', seeded: true, scorers: async (split, seed, o) => [await vasgScorer(split, vasgConfig(o, seed, { decoder: false }), o.progress, 'Skip-Gram')] },
  { name: 'VASG', seeded: true, scorers: async (split, seed, o) => [await vasgScorer(split, vasgConfig(o, seed), o.progress, 'VASG')] },
  {
    name: 'Oracle', seeded: false,
    scorers: async (split) => {
      const oracle = oracleScorer(split);
      return oracle ? [oracle] : [];
    },
  },
];

/** Runs every method `runs` times (once when unseeded) and summarises warm/cold AUC per row. */
export async function aucExperiment(split: Split, methods: Method[], options: ExperimentOptions): Promise<{ rows: AucRow[] }> {
  const results = new Map<string, { warm: number[]; cold: number[] }>();
  for (const method of methods) {
    const runs = method.seeded ? options.runs : 1;
    for (let run = 0; run < runs; run++) {
      options.progress.log(`${method.name}: run ${run + 1}/${runs}`);
      for (const scorer of await method.scorers(split, options.seed + run, options)) {
        const result = await evaluateAuc(scorer, split, options.threads);
        const entry = results.get(scorer.name) ?? { warm: [], cold: [] };
        entry.warm.push(result.warm);
        entry.cold.push(result.cold);
        results.set(scorer.name, entry);
      }
    }
  }
  return { rows: Array.from(results, ([method, r]) => ({ method, warm: summarize(r.warm), cold: summarize(r.cold) })) };
}
