// `node dist/scripts/topk-probe.js --data SPLIT [--seed 1] [--threads 1] [--baselines] [--tune] [configKey=value …]`:
// trains VASG on a prepared split (seed = data split's seed unless given) and prints, as one JSON line per scored
// variant, what the shop's top-20 list looks like: Recall@20 and NDCG@20 on warm, cold and all test pairs, new-product
// exposure@20 next to the cold share of test pairs, and warm / cold / combined AUC (src/eval/auc.ts).
// --tune carves a validation split out of the training data (`vasg tune`'s: the split's own protocol on train.csv),
// trains on it, picks the item-bias weights that maximise its "all" Recall@20, and scores the test model with
// them: nothing is tuned on the test pairs. --baselines adds BPR-MF, WBOI and VBPR (+ visual only) rows.
// docs/topk-modelling.md's tables come from it (through scripts/topk-summary.ts).
import { configOverrides, flag as flagOf } from './args.js';
import { loadSplit } from '../src/data/split.js';
import type { Matrix, Split } from '../src/data/types.js';
import { validationSplit } from '../src/eval/tune.js';
import { resolveConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { evaluateAuc, type FactorScorer } from '../src/eval/auc.js';
import { wboiScorer } from '../src/eval/baselines.js';
import { trainBprMf } from '../src/baselines/bpr.js';
import { trainVbpr } from '../src/baselines/vbpr.js';
import { silentProgress } from '../src/progress.js';
import { coldScoreOffset, itemPopularity, withItemBias, type ItemBiasWeights } from '../src/model/item-bias.js';
import { normalizeRows } from '../src/model/matrix.js';
import type { VasgModel } from '../src/model/vasg-model.js';

const USAGE = 'usage: topk-probe.js --data SPLIT [--seed N] [--threads N] [--baselines] [--tune] [configKey=value …]';

const flag = (name: string) => flagOf(USAGE, name);

export interface TopkReport {
  recall: { warm: number; cold: number; all: number };
  ndcg: { warm: number; cold: number; all: number };
  /** Share of the test users' top-20 slots held by cold products, and the cold share of test pairs. */
  exposure: number;
  coldShareOfTest: number;
  auc: { warm: number; cold: number; combined: number };
}

/** The shared metrics of src/eval/topk.ts (one evaluateAuc pass), in the shape topk-summary.ts reads. */
async function topkReport(scorer: FactorScorer, split: Split, threads: number): Promise<TopkReport> {
  const r = await evaluateAuc(scorer, split, threads, [20]);
  const { 'recall@20': recall, 'ndcg@20': ndcg, 'exposure@20': exposure } = r.topK;
  return {
    recall, ndcg,
    exposure: exposure.cold,
    coldShareOfTest: exposure.coldTestShare,
    auc: { warm: r.warm, cold: r.cold, combined: r.combined },
  };
}

const BETAS = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3];
const QUANTILES = [0, 0.5, 0.9, 0.99, 1];
const OFFSETS = [0, 0.1, 0.2, 0.3, 0.4, 0.5];

/** Cosine offset from the training pairs: learned warm vectors vs the encoder's vectors of the same products. */
async function calibratedOffset(model: VasgModel, split: Split): Promise<number> {
  const encoded = await model.embedFeatures(split.features);
  const { users, items } = model.scoringMatrices();
  return coldScoreOffset(users, items, model.config.scoring === 'cosine' ? normalizeRows(encoded) : encoded, split.train);
}

/** Bias weights maximising the split's "all" Recall@20 (ties: NDCG@20); `onEach` sees every grid point. */
async function tuneBias(scoring: { users: Matrix; items: Matrix }, split: Split, threads: number,
  onEach: (weights: ItemBiasWeights, report: TopkReport) => void = () => {}): Promise<{ weights: ItemBiasWeights; report: TopkReport }> {
  const popularity = itemPopularity(split.train, split.itemIds.length);
  let best: { weights: ItemBiasWeights; report: TopkReport } | null = null;
  for (const popularityWeight of BETAS) {
    for (const coldQuantile of popularityWeight === 0 ? [0] : QUANTILES) for (const coldOffset of OFFSETS) {
      const weights = { popularityWeight, coldQuantile, coldOffset };
      const scorer = { name: 'VASG', ...withItemBias(scoring, popularity, split.warm, weights) };
      const report = await topkReport(scorer, split, threads);
      onEach(weights, report);
      const key = (r: TopkReport) => r.recall.all + 1e-3 * r.ndcg.all;
      if (!best || key(report) > key(best.report)) best = { weights, report };
    }
  }
  return best!;
}

const round = (x: number) => Math.round(x * 10000) / 10000;
const rounded = (o: unknown): unknown => (typeof o === 'number' ? round(o) : o && typeof o === 'object'
  ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, rounded(v)])) : o);

function print(data: string, seed: number, variant: string, report: TopkReport, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ data, seed, variant, ...rounded(report) as object, ...extra }));
}

const data = flag('--data');
if (!data) throw new Error(USAGE);
const threads = Number(flag('--threads') ?? 1);
const split = loadSplit(data);
const seed = Number(flag('--seed') ?? split.summary.seed);
const config = resolveConfig({ threads, ...configOverrides(), seed });
const label = Object.entries(configOverrides()).map(([k, v]) => `${k}=${v}`).join(' ') || 'defaults';

if (process.argv.includes('--baselines')) {
  print(data, seed, 'WBOI', await topkReport(wboiScorer(split), split, threads));
  print(data, seed, 'BPR-MF', await topkReport(trainBprMf(split, { seed, threads }, silentProgress), split, threads));
  const { scorer, visual } = trainVbpr(split, { seed, threads }, silentProgress);
  print(data, seed, 'VBPR', await topkReport(scorer, split, threads));
  print(data, seed, 'VBPR (visual only)', await topkReport(visual, split, threads));
}

const started = Date.now();
const { model } = await trainVasg(split, config, silentProgress);
const seconds = (Date.now() - started) / 1000;
const scoring = model.scoringMatrices();
print(data, seed, `VASG ${label}`, await topkReport({ name: 'VASG', ...model.rankingMatrices() }, split, threads), { seconds, coldBias: model.parts.coldBias });
if (model.parts.itemBias) print(data, seed, `VASG ${label}, embeddings only (no item bias)`, await topkReport({ name: 'VASG', ...scoring }, split, threads));
const popularity = itemPopularity(split.train, split.itemIds.length);
const offset = await calibratedOffset(model, split);
const calibrated = withItemBias(scoring, popularity, split.warm, { popularityWeight: 0, coldQuantile: 0, coldOffset: offset });
print(data, seed, `VASG ${label} + calibrated cold offset`, await topkReport({ name: 'VASG', ...calibrated }, split, threads), { offset });

if (process.argv.includes('--grid')) {
  // The whole grid on the test pairs: shows the trade-off frontier; never used to choose anything.
  await tuneBias(scoring, split, threads, (weights, report) => print(data, seed, `test grid: VASG ${label} + item bias`, report, { weights }));
}

if (process.argv.includes('--tune')) {
  const validation = validationSplit(split, seed + 1000);
  const { model: validationModel } = await trainVasg(validation, config, silentProgress);
  const tuned = await tuneBias(validationModel.scoringMatrices(), validation, threads,
    (weights, report) => print(data, seed, `validation grid: VASG ${label} + item bias`, report, { weights }));
  print(data, seed, `validation: VASG ${label} + item bias`, tuned.report, { weights: tuned.weights });
  const biased = withItemBias(scoring, popularity, split.warm, tuned.weights);
  print(data, seed, `VASG ${label} + item bias (validation-tuned)`, await topkReport({ name: 'VASG', ...biased }, split, threads), { weights: tuned.weights });
}
