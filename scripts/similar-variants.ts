// `node dist/scripts/similar-variants.js --data SPLIT [--seed 1] VARIANT …`: trains VASG once (default config,
// one thread) and scores variants of its similar-items space on Table 3's relation accuracy and the Recall@20 of
// held-out co-purchases (warm / cold anchors), each fitted without the run's evaluated pairs, as `vasg experiment
// relations` does. docs/relations.md's table of variants comes from this script. VARIANT is one of
//   cos             the embeddings' cosine (the paper's; `--similar embedding`)
//   rawf            IBR: the learned distance on the raw image features
//   x               the learned distance on the unit-length embeddings alone
//   xf:W            … on [x̂; W·f̂] (embeddings next to unit-length image features scaled by W)
//   xfv:W:P         … the same, each training pair's products read with their encoder embedding with probability P
//                   (what `--similar metric` does, with W = FEATURE_WEIGHT and P = 0.3)
// followed optionally by `@EPOCHS[,LR[,SCHEDULE[,RANK]]]` (default: `--similar-epochs`' default and the learner's
// rate 5e-3 falling `linear`ly to 0; `constant` keeps it, as IBR does), e.g. `x@20` or `xfv:3:0.3@10,1e-3,constant`.
import { flag as flagOf } from './args.js';
import { loadSplit } from '../src/data/split.js';
import type { Features, Matrix } from '../src/data/types.js';
import { native } from '../src/native.js';
import { resolveConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { normalizeRows } from '../src/model/matrix.js';
import { fitPairMetric, matrixRows, projectRows, type PairRows, type SecondView } from '../src/model/pair-metric.js';
import { similarMetricConfig } from '../src/model/similar-space.js';
import { distanceRows, type ItemSimilarity } from '../src/core/pairs.js';
import {
  buildRelationPairs, coPurchasedPairs, coPurchaseRecall, cosineSimilarity, heldOutCoPurchases, relationAccuracy, relationPairKeys,
} from '../src/eval/relations.js';
import { silentProgress } from '../src/progress.js';

const USAGE = 'usage: similar-variants.js --data SPLIT [--seed N] VARIANT … (cos, rawf, x, xf:W, xfv:W:P, each with an optional @EPOCHS[,LR[,linear|constant[,RANK]]])';
const flag = (name: string) => flagOf(USAGE, name);
const data = flag('--data');
if (!data) throw new Error(USAGE);
const seed = Number(flag('--seed') ?? 1);
const variants = process.argv.slice(2).filter((a, k, all) => !a.startsWith('--') && !all[k - 1]?.startsWith('--'));
native.setBlasThreads(1);

const split = loadSplit(data);
const config = resolveConfig({ seed, threads: 1, similar: 'embedding' });
const model = (await trainVasg(split, config, silentProgress)).model;
const pairs = buildRelationPairs(split, { seed, pairs: Math.min(10000, Math.floor(coPurchasedPairs(split).size / 2)) });
const exclude = relationPairKeys(pairs);
const heldOut = heldOutCoPurchases(split);
const x = normalizeRows(model.parts.items);
const encoded = normalizeRows(await model.embedFeatures(split.features));
const f = normalizeRows(split.features);

/** [a; w·b] per row. */
function concat(a: Matrix, b: Matrix, w: number): Matrix {
  const cols = a.cols + b.cols;
  const out = new Float32Array(a.rows * cols);
  for (let i = 0; i < a.rows; i++) {
    out.set(a.data.subarray(i * a.cols, (i + 1) * a.cols), i * cols);
    for (let c = 0; c < b.cols; c++) out[i * cols + a.cols + c] = w * b.data[i * b.cols + c];
  }
  return { data: out, rows: a.rows, cols };
}

/** The learner's schedule of one variant. */
interface Schedule {
  epochs: number;
  lr: number;
  decay: boolean;
  rank: number;
}

function scheduleOf(text: string | undefined): Schedule {
  const base = similarMetricConfig(config);
  const [epochs, lr, kind, rank] = (text ?? '').split(',');
  if (kind !== undefined && kind !== 'linear' && kind !== 'constant') throw new Error(`${USAGE}: unknown schedule "${kind}"`);
  return {
    epochs: epochs ? Number(epochs) : base.epochs, lr: lr ? Number(lr) : base.lr,
    decay: kind === undefined ? base.decay === true : kind === 'linear', rank: rank ? Number(rank) : base.rank,
  };
}

/** The learned distance fitted on `training` (with a second view: rows n…2n−1), applied to `input`'s rows. */
function learned(input: Features, schedule: Schedule, training: PairRows = matrixRows(input), view?: SecondView): ItemSimilarity {
  const { projection } = fitPairMetric(split, training, { ...similarMetricConfig(config), ...schedule }, exclude, silentProgress, 'variant', view);
  return distanceRows(projectRows(projection, input));
}

/** [x̂ of the row's view; w·f̂ of its product] for two views, read by the learner without a copy of each row. */
function twoViews(w: number): PairRows {
  const head = new Float32Array(2 * x.data.length);
  head.set(x.data);
  head.set(encoded.data, x.data.length);
  // w·f̂ read as float32(w · float32(f̂ · 1)): the unit-length features scaled as the learner reads them, no copy.
  const tail = { features: f, scale: new Float64Array(f.rows).fill(1), weight: w };
  return { rows: 2 * x.rows, cols: x.cols + f.cols, head: { data: head, rows: 2 * x.rows, cols: x.cols }, tail };
}

function similarity(variant: string, schedule: Schedule): ItemSimilarity {
  const [kind, w, p] = variant.split(':');
  switch (kind) {
    case 'cos': return cosineSimilarity(model.parts.items);
    case 'rawf': return learned(split.features, schedule);
    case 'x': return learned(x, schedule);
    case 'xf': return learned(concat(x, f, Number(w)), schedule);
    case 'xfv': return learned(concat(x, f, Number(w)), schedule, twoViews(Number(w)), { probability: Number(p) });
    default: throw new Error(`${USAGE}: unknown variant "${variant}"`);
  }
}

for (const variant of variants) {
  const [name, schedule] = variant.split('@');
  const started = Date.now();
  const s = similarity(name, scheduleOf(schedule));
  const accuracy = relationAccuracy(s, pairs).accuracy;
  const recall = await coPurchaseRecall(s, split, heldOut, 20);
  console.log(JSON.stringify({ data, seed, variant, accuracy, warm: recall.warm, cold: recall.cold, seconds: (Date.now() - started) / 1000 }));
}
