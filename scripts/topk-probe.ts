// `node dist/scripts/topk-probe.js --data SPLIT [--seed 1] [--threads 1] [--baselines] [--tune] [configKey=value …]`:
// trains VASG on a prepared split (seed = data split's seed unless given) and prints, as one JSON line per scored
// variant, what the shop's top-20 list looks like: Recall@20 and NDCG@20 on warm, cold and all test pairs, new-product
// exposure@20 next to the cold share of test pairs, and warm / cold / combined AUC (src/eval/auc.ts).
// --tune carves a validation split out of the training data (`vasg tune`'s: the split's own protocol on train.csv),
// trains on it, picks the item-bias weights that maximise its "all" Recall@20, and scores the test model with
// them: nothing is tuned on the test pairs. --baselines adds BPR-MF, WBOI and VBPR (+ visual only) rows.
// Every run also scores the cold-bias rules on the same embeddings: the quantile rule (--cold-exposure off) and the
// exposure calibration at --factors × the "auto" target; --per-user adds a per-user mapping of the cold scores (not
// representable as one inner product); --validate scores the same rules on the validation split instead of the test.
// docs/topk-modelling.md's tables come from it (through scripts/topk-summary.ts).
import { configOverrides, flag as flagOf } from './args.js';
import { loadSplit } from '../src/data/split.js';
import type { Matrix, Split } from '../src/data/types.js';
import { validationSplit } from '../src/eval/tune.js';
import { resolveConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { evaluateAuc } from '../src/eval/auc.js';
import type { BlockScorer, Scorer } from '../src/core/factors.js';
import { native } from '../src/native.js';
import { wboiScorer } from '../src/eval/baselines.js';
import { trainBprMf } from '../src/baselines/bpr.js';
import { trainVbpr } from '../src/baselines/vbpr.js';
import { silentProgress } from '../src/progress.js';
import { appendBiasColumn, calibrateColdShift, coldExposureAt, coldScoreOffset, coldShareTarget, itemBiases, itemPopularity, listHeads, withItemBias,
  type ItemBiasWeights } from '../src/model/item-bias.js';
import { normalizeRows } from '../src/model/matrix.js';
import type { VasgModel } from '../src/model/vasg-model.js';

const USAGE = 'usage: topk-probe.js --data SPLIT [--seed N] [--threads N] [--baselines] [--tune] [--grid] [--validate] [--per-user] [--factors 0.5,1] [configKey=value …]';

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
async function topkReport(scorer: Scorer, split: Split, threads: number): Promise<TopkReport> {
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

/** Per user, the mean and sd of the warm ranking scores (bias included) and of the raw cold scores, over the whole catalogue. */
function userMoments(scoring: { users: Matrix; items: Matrix }, biases: Float32Array, warm: Uint8Array) {
  const { users, items } = scoring;
  const n = items.rows;
  const moments = { muW: new Float64Array(users.rows), sdW: new Float64Array(users.rows), muC: new Float64Array(users.rows), sdC: new Float64Array(users.rows) };
  const B = 256;
  const block = new Float32Array(B * n);
  for (let u0 = 0; u0 < users.rows; u0 += B) {
    const m = Math.min(B, users.rows - u0);
    native.sgemm(false, true, m, n, users.cols, 1, users.data.subarray(u0 * users.cols), users.cols, items.data, items.cols, 0, block, n);
    for (let r = 0; r < m; r++) {
      let sw = 0, sw2 = 0, nw = 0, sc = 0, sc2 = 0, nc = 0;
      for (let i = 0; i < n; i++) {
        const x = block[r * n + i];
        if (warm[i]) { const y = x + biases[i]; sw += y; sw2 += y * y; nw++; } else { sc += x; sc2 += x * x; nc++; }
      }
      const u = u0 + r;
      moments.muW[u] = sw / nw; moments.sdW[u] = Math.sqrt(Math.max(1e-12, sw2 / nw - (sw / nw) ** 2));
      moments.muC[u] = sc / nc; moments.sdC[u] = Math.sqrt(Math.max(1e-12, sc2 / nc - (sc / nc) ** 2));
    }
  }
  return moments;
}

/**
 * Per-user calibration (diagnostic, not representable as one inner product): user u's cold scores mapped onto its warm
 * scores' mean and sd, then one shift calibrated to `target` on the training users' lists, as the default does globally.
 */
function perUserScorer(scoring: { users: Matrix; items: Matrix }, biases: Float32Array, split: Split, target: number): { scorer: BlockScorer; shift: number } {
  const { muW, sdW, muC, sdC } = userMoments(scoring, biases, split.warm);
  const map = (u: number, x: number) => muW[u] + sdW[u] * (x - muC[u]) / sdC[u];
  const heads = listHeads(scoring, biases, split.warm, split.train, 20, Number.MAX_SAFE_INTEGER);
  // listHeads' rows are the users with training purchases, in order.
  const active: number[] = [];
  const seen = new Uint8Array(scoring.users.rows);
  for (const u of split.train.users) seen[u] = 1;
  seen.forEach((a, u) => a && active.push(u));
  active.forEach((u, r) => { for (let j = 0; j < heads.k; j++) heads.cold[r * heads.k + j] = map(u, heads.cold[r * heads.k + j]); });
  const shift = calibrateColdShift(heads, target);
  const { users, items } = scoring;
  const n = items.rows;
  const scorer: BlockScorer = {
    name: 'VASG per-user', nUsers: users.rows, nItems: n,
    async scoreUsers(block: Int32Array) {
      const out = new Float32Array(block.length * n);
      const q = new Float32Array(block.length * users.cols);
      block.forEach((u, r) => q.set(users.data.subarray(u * users.cols, (u + 1) * users.cols), r * users.cols));
      native.sgemm(false, true, block.length, n, users.cols, 1, q, users.cols, items.data, items.cols, 0, out, n);
      block.forEach((u, r) => {
        for (let i = 0; i < n; i++) out[r * n + i] = split.warm[i] ? out[r * n + i] + biases[i] : map(u, out[r * n + i]) + shift;
      });
      return out;
    },
  };
  return { scorer, shift };
}

const FACTORS = (flag('--factors') ?? '0.5,0.625,0.75,1,1.5').split(',').map(Number);

/**
 * The cold-bias rules side by side on one model's embeddings: the quantile rule (--cold-exposure off) and calibrations
 * to fractions of the training-data target (the default is 1 × "auto"); `prefix` names the split scored ("validation: ").
 */
async function coldRules(model: VasgModel, split: Split, prefix: string): Promise<void> {
  const scoring = model.scoringMatrices();
  const popularity = itemPopularity(split.train, split.itemIds.length);
  const quantile = { popularityWeight: config.itemBias, coldQuantile: config.coldPopularity, coldOffset: config.coldOffset };
  print(data!, seed, `${prefix}VASG ${label}, quantile rule (cold-exposure off)`, await topkReport({ name: 'VASG', ...withItemBias(scoring, popularity, split.warm, quantile) }, split, threads));
  const warmBiases = itemBiases(popularity, split.warm, quantile);
  const heads = listHeads(scoring, warmBiases, split.warm, split.train, 20);
  const target = coldShareTarget(split, model.config.seed + 1000);
  for (const factor of target === null ? [] : FACTORS) {
    const shift = calibrateColdShift(heads, factor * target!);
    const biases = Float32Array.from(warmBiases, (b, i) => (split.warm[i] ? b : shift));
    print(data!, seed, `${prefix}VASG ${label}, cold exposure ${factor} × auto`, await topkReport({ name: 'VASG', ...appendBiasColumn(scoring, biases) }, split, threads),
      { target: factor * target!, shift, trainExposure: coldExposureAt(heads, shift) });
  }
  if (process.argv.includes('--per-user') && target !== null) {
    const { scorer, shift } = perUserScorer(scoring, warmBiases, split, target);
    print(data!, seed, `${prefix}VASG ${label}, per-user cold mapping + exposure calibration`, await topkReport(scorer, split, threads), { target, shift });
  }
  console.error(`${prefix}auto target ${target}, coldBias ${model.parts.coldBias}, training-user exposure ${coldExposureAt(heads, model.parts.coldBias!)}`);
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

if (process.argv.includes('--validate')) {
  // The cold rules on a validation split carved from the training data (how the default factor was chosen), with
  // BPR-MF there for the warm goal's reference; the test pairs are not scored.
  const validation = validationSplit(split, seed + 1000);
  print(data, seed, 'validation: BPR-MF', await topkReport(trainBprMf(validation, { seed, threads }, silentProgress), validation, threads));
  const { model: validationModel } = await trainVasg(validation, config, silentProgress);
  await coldRules(validationModel, validation, 'validation: ');
  process.exit(0);
}

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
print(data, seed, `VASG ${label}`, await topkReport({ name: 'VASG', ...model.rankingMatrices() }, split, threads), { seconds, coldBias: model.parts.coldBias, target: coldShareTarget(split, seed + 1000) });
if (model.parts.itemBias) print(data, seed, `VASG ${label}, embeddings only (no item bias)`, await topkReport({ name: 'VASG', ...scoring }, split, threads));
const popularity = itemPopularity(split.train, split.itemIds.length);
if (model.parts.itemBias) await coldRules(model, split, '');
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
