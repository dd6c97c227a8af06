// `node dist/scripts/scoring-sweep.js --data SPLIT [--seeds 1,2,3,4,5] [--threads 2] [key=value …]`: trains VASG
// once per seed (config overrides as `rankEpochs=30`, `dim=64`, …) and scores each model both by cosine and by
// dot product, so the two rules are compared on the same trained vectors. Prints one JSON line per seed, then
// warm / cold / combined AUC as mean ± sd per rule. The README's table "Why 30 ranking epochs and cosine
// scoring" comes from this script.
import { loadSplit } from '../src/data/split.js';
import { resolveConfig, type TrainConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { evaluateModel, type AucSummary } from '../src/eval/evaluate.js';
import { formatStat, summarize } from '../src/experiments/stats.js';
import { silentProgress } from '../src/progress.js';

const USAGE = 'usage: scoring-sweep.js --data SPLIT [--seeds 1,2,3] [--threads N] [configKey=value …]';

function flag(name: string): string | undefined {
  const k = process.argv.indexOf(name);
  if (k < 0) return undefined;
  if (k + 1 >= process.argv.length) throw new Error(`${USAGE} (${name} needs a value)`);
  return process.argv[k + 1];
}

/** `key=value` arguments as config overrides; numbers and true/false are parsed, resolveConfig checks them. */
function overrides(): Partial<TrainConfig> {
  const pairs = process.argv.slice(2).filter((a) => /^[a-zA-Z]+=/.test(a)).map((a) => a.split('=', 2));
  const value = (v: string) => (v === 'true' ? true : v === 'false' ? false : Number.isFinite(Number(v)) ? Number(v) : v);
  return Object.fromEntries(pairs.map(([k, v]) => [k, value(v)])) as Partial<TrainConfig>;
}

const data = flag('--data');
if (!data) throw new Error(USAGE);
const seeds = (flag('--seeds') ?? '1,2,3,4,5').split(',').map(Number);
const threads = Number(flag('--threads') ?? 2);
const split = loadSplit(data);
const configOverrides = overrides();
const results: Record<'cosine' | 'dot', AucSummary[]> = { cosine: [], dot: [] };
for (const seed of seeds) {
  const config = resolveConfig({ threads, ...configOverrides, seed });
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
