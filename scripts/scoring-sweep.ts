// `node dist/scripts/scoring-sweep.js --data SPLIT [--seeds 1,2,3,4,5] [--threads 2] [key=value …]`: trains VASG
// once per seed (config overrides as `rankEpochs=30`, `dim=64`, …) and scores each model both by cosine and by
// dot product, so the two rules are compared on the same trained vectors. Prints one JSON line per seed, then
// warm / cold / combined AUC as mean ± sd per rule. The README's table "Why 30 ranking epochs and cosine
// scoring" comes from this script.
import { configOverrides, flag as flagOf } from './args.js';
import { loadSplit } from '../src/data/split.js';
import { resolveConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { evaluateModel, type AucSummary } from '../src/eval/evaluate.js';
import { formatStat, summarize } from '../src/experiments/stats.js';
import { silentProgress } from '../src/progress.js';

const USAGE = 'usage: scoring-sweep.js --data SPLIT [--seeds 1,2,3] [--threads N] [configKey=value …]';

const flag = (name: string) => flagOf(USAGE, name);

const data = flag('--data');
if (!data) throw new Error(USAGE);
const seeds = (flag('--seeds') ?? '1,2,3,4,5').split(',').map(Number);
const threads = Number(flag('--threads') ?? 2);
const split = loadSplit(data);
const overrides = configOverrides();
const results: Record<'cosine' | 'dot', AucSummary[]> = { cosine: [], dot: [] };
for (const seed of seeds) {
  const config = resolveConfig({ threads, ...overrides, seed });
  const { model, seconds } = await trainVasg(split, config, silentProgress);
  const report = await evaluateModel(model, split, { threads, seed, progress: silentProgress });
  results.cosine.push(report.byScoring.cosine);
  results.dot.push(report.byScoring.dot);
  console.log(JSON.stringify({ seed, seconds, cosine: report.byScoring.cosine, dot: report.byScoring.dot }));
}
for (const rule of ['cosine', 'dot'] as const) {
  const column = (pick: (a: AucSummary) => number) => formatStat(summarize(results[rule].map(pick)), 3);
  console.log(`${rule}: warm ${column((a) => a.warm)}  cold ${column((a) => a.cold)}  combined ${column((a) => a.combined)}`);
}
