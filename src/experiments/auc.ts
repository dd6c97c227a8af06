// Table 2: warm/cold AUC of every method on one prepared split, mean ± sd over runs with
// different training seeds (the split itself stays fixed). Same candidates, same AUC code.
import type { Matrix, Split } from '../data/types.js';
import type { Progress } from '../progress.js';
import { paperConfig, resolveConfig, type TrainConfig } from '../model/config.js';
import { trainEmbeddings } from '../model/train.js';
import { scoringFactors, type VasgModel } from '../model/vasg-model.js';
import { evaluateAuc, type EvaluationResult, type FactorScorer, type Scorer } from '../eval/auc.js';
import { DEFAULT_KS, isRankKey } from '../eval/topk.js';
import { oracleScorer, randScorer } from '../eval/baselines.js';
import { selectEaseLambda } from '../eval/select.js';
import { easeScorer, fitEase } from '../baselines/ease.js';
import { METHODS, optionsFor } from '../methods/registry.js';
import { trainedModel } from '../methods/vasg.js';
import type { Method as RegisteredMethod } from '../methods/method.js';
import { summarize, type Stat } from './stats.js';

/** A metric over warm, cold and all test pairs, mean ± sd over runs. */
export interface WarmColdAllStat {
  warm: Stat;
  cold: Stat;
  all: Stat;
}

/** One table row: AUC, `recall@K`/`ndcg@K` for every K asked and the top-20 list metrics (src/eval/topk.ts), each mean ± sd over runs. */
export type AucRow = {
  method: string;
  warm: Stat;
  cold: Stat;
  /** Eq. 4 over warm and cold test pairs with one ranking. */
  combined: Stat;
  'coverage@20': Stat;
  'exposure@20': { cold: Stat; coldTestShare: Stat };
  'popularity@20': Stat;
} & { [key: `recall@${number}` | `ndcg@${number}`]: WarmColdAllStat };

export interface ExperimentOptions {
  runs: number;
  seed: number;
  threads: number;
  /** Training settings shared by VASG and its ablations. */
  config: Partial<TrainConfig>;
  progress: Progress;
  /** Folder that products' relative image_url paths are in (thumbnails in figures). */
  images?: string;
  /** Cut-offs of Recall@K and NDCG@K (default 10, 20, 50). */
  ks?: number[];
}

/** A method that yields one or more scorers (table rows) for a given run seed. */
export interface Method {
  name: string;
  /** False for methods whose result does not depend on the seed (computed once). */
  seeded: boolean;
  scorers(split: Split, seed: number, options: ExperimentOptions): Promise<Scorer[]>;
}

/** The model's own ranking (cosine or dot, as configured, with its item bias) as factors. */
export async function vasgScorer(split: Split, config: TrainConfig, progress: Progress, name: string): Promise<FactorScorer> {
  const { users, items } = (await trainedModel(split, config, progress)).rankingMatrices();
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
 * A registered method's row: its model's own ranking scores (rankingMatrices: VASG's item bias included), fitted with the run's seed and threads.
 * VASG's training settings come from the experiment's config, and its model is shared with the other experiments. A method
 * with a `tune` hook fits with the options it selects on the validation split carved with the base seed (once per split).
 */
function registryRow(method: RegisteredMethod): Method {
  return {
    name: method.label,
    seeded: method.seeded,
    scorers: async (split, seed, o) => {
      const tuned = method.tune ? await method.tune(split, { seed: o.seed, threads: o.threads }, o.progress) : {};
      const model = method.name === 'vasg'
        ? await trainedModel(split, vasgConfig(o, seed), o.progress)
        : await method.fit(split, { ...tuned, ...optionsFor(method, { seed, threads: o.threads }) }, o.progress);
      const scorer: FactorScorer = { name: method.label, ...model.rankingMatrices(), ...(method.warmOnly ? { warmOnly: true } : {}) };
      return method.name === 'vbpr' ? [scorer, vbprVisualOnly(scorer, model)] : [scorer];
    },
  };
}

/**
 * VBPR's visual terms alone, the score it gives every cold product, for all products: columns K…K+K'−1 and
 * K+K'+1 of its factors (users [γ_u, θ_u, 1, 1], items [γ_i, E f_i, β_i, β'·f_i]).
 */
function vbprVisualOnly(scorer: FactorScorer, model: VasgModel): FactorScorer {
  const { latent: K, visual: V } = model.parts.method!.options as { latent: number; visual: number };
  const columns = (m: Matrix, last: number): Matrix => {
    const data = new Float32Array(m.rows * (V + 1));
    for (let r = 0; r < m.rows; r++) {
      data.set(m.data.subarray(r * m.cols + K, r * m.cols + K + V), r * (V + 1));
      data[r * (V + 1) + V] = m.data[r * m.cols + last];
    }
    return { data, rows: m.rows, cols: V + 1 };
  };
  return { name: 'VBPR (visual only)', users: columns(scorer.users, K + V), items: columns(scorer.items, K + V + 1) };
}

/**
 * EASE, experiment-only (not a registered method: its item × item B does not fit the shared model format; see
 * EXPERIMENT_ONLY in src/methods/registry.ts): λ tuned on the validation split, then one fit, scored by blocks of users.
 * Deterministic, so one fit whatever the run seed.
 */
const easeRow: Method = {
  name: 'EASE', seeded: false,
  scorers: async (split, _seed, o) => {
    const { best } = await selectEaseLambda(split, { seed: o.seed, threads: o.threads }, o.progress);
    return [easeScorer(await fitEase(split, { lambda: best, threads: o.threads }, o.progress))];
  },
};

const skipGramRow: Method = { name: 'Skip-Gram', seeded: true, scorers: async (split, seed, o) => [await skipGramScorer(split, vasgConfig(o, seed), o.progress)] };
const vasgPaperRow: Method = {
  name: 'VASG (paper)', seeded: true,
  scorers: async (split, seed, o) => [await vasgScorer(split, vasgConfig(o, seed, paperConfig), o.progress, 'VASG (paper)')],
};

/** The rows that are not registered methods, next to the registered row they belong with. */
const AROUND: Record<string, { before?: Method[]; after?: Method[] }> = {
  'bpr-mf': { after: [easeRow] }, // the practitioner's first baselines: EASE, then iALS and Content→CF (registered)
  vasg: { before: [skipGramRow], after: [vasgPaperRow] },
};

/**
 * Table 2's rows: RAND, every registered method of the ranking table in registry order with the unregistered rows
 * around them (EASE after BPR-MF; VASG between its ablations: Skip-Gram before, the paper's formulation after), and
 * the Oracle.
 */
export const tableMethods: Method[] = [
  { name: 'RAND', seeded: true, scorers: async (split, seed) => [randScorer(split, seed)] },
  ...METHODS.filter((m) => m.rankingTable).flatMap((m) => [...(AROUND[m.name]?.before ?? []), registryRow(m), ...(AROUND[m.name]?.after ?? [])]),
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
  const results = new Map<string, EvaluationResult[]>();
  const seconds: Record<string, number> = {};
  for (const method of methods) {
    const runs = method.seeded ? options.runs : 1;
    const started = Date.now();
    for (let run = 0; run < runs; run++) {
      options.progress.log(`${method.name}: run ${run + 1}/${runs}`);
      for (const scorer of await method.scorers(split, options.seed + run, options)) {
        const result = await evaluateAuc(scorer, split, options.threads, options.ks ?? DEFAULT_KS);
        results.set(scorer.name, [...(results.get(scorer.name) ?? []), result]);
      }
    }
    seconds[method.name] = (Date.now() - started) / 1000;
  }
  return { rows: Array.from(results, ([method, runs]) => summarizeRuns(method, runs)), seconds };
}

function summarizeRuns(method: string, runs: EvaluationResult[]): AucRow {
  const stat = (pick: (r: EvaluationResult) => number) => summarize(runs.map(pick));
  const row: Record<string, unknown> = {
    method,
    warm: stat((r) => r.warm),
    cold: stat((r) => r.cold),
    combined: stat((r) => r.combined),
  };
  for (const key of Object.keys(runs[0].topK).filter(isRankKey)) {
    const pick = (r: EvaluationResult) => r.topK[key];
    row[key] = { warm: stat((r) => pick(r).warm), cold: stat((r) => pick(r).cold), all: stat((r) => pick(r).all) };
  }
  row['coverage@20'] = stat((r) => r.topK['coverage@20']);
  row['exposure@20'] = { cold: stat((r) => r.topK['exposure@20'].cold), coldTestShare: stat((r) => r.topK['exposure@20'].coldTestShare) };
  row['popularity@20'] = stat((r) => r.topK['popularity@20']);
  return row as AucRow;
}
