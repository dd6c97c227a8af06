// `node dist/bench/ease.js [--preset men] [--max-items 10000] [--lambda 3000] [--seed 1]`: what EASE's item cap
// costs and buys on a generated preset, printed as one JSON object: fit seconds, peak RSS, the share of
// training purchases and of warm test products the modelled products cover, and warm AUC / Recall@20 /
// NDCG@20 (MostPop's beside them). One fit at a fixed λ: no tuning. Not a test.
import { generate, type PresetName } from '../src/data/generate.js';
import { prepareSplit } from '../src/data/split.js';
import { easeScorer, fitEase } from '../src/baselines/ease.js';
import { evaluateAuc, type AucResult } from '../src/eval/auc.js';
import { mostPopScorer } from '../src/eval/baselines.js';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const preset = arg('--preset', 'men') as PresetName;
const maxItems = Number(arg('--max-items', '10000'));
const lambda = Number(arg('--lambda', '3000'));
const seed = Number(arg('--seed', '1'));

const split = prepareSplit(generate(preset, seed), { seed });
let started = Date.now();
const model = await fitEase(split, { lambda, maxItems, threads: 1 });
const fitSeconds = (Date.now() - started) / 1000;
const modelled = new Uint8Array(split.itemIds.length);
for (const i of model.items) modelled[i] = 1;
let covered = 0;
for (const i of split.train.items) covered += modelled[i];
let warmTests = 0;
let warmTestsCovered = 0;
for (const i of split.test.items) {
  if (!split.warm[i]) continue;
  warmTests++;
  warmTestsCovered += modelled[i];
}
started = Date.now();
const warm = (r: AucResult) => ({ auc: r.warm, 'recall@20': r.recallAt20.warm, 'ndcg@20': r.ndcgAt20.warm });
const ease = warm(await evaluateAuc(easeScorer(model), split, 1));
const evaluateSeconds = (Date.now() - started) / 1000;
console.log(JSON.stringify({
  preset, seed, lambda, maxItems,
  warmProducts: split.warm.reduce((a, b) => a + b, 0),
  modelled: model.items.length,
  gramMiB: (model.items.length ** 2 * 4) / 2 ** 20,
  fitSeconds, evaluateSeconds,
  peakRssGiB: process.resourceUsage().maxRSS / 2 ** 20,
  trainPurchasesCovered: covered / split.train.items.length,
  warmTestProductsCovered: warmTestsCovered / warmTests,
  ease,
  mostPop: warm(await evaluateAuc(mostPopScorer(split), split, 1)),
}, null, 2));
