// `node dist/scripts/ablation.js --seeds 1,2,3 NAME=SPLIT …`: the README's ablation table. Trains VASG once per
// (configuration, split, seed), each configuration being the defaults with one part switched off or changed,
// and prints a Markdown table of warm / cold / combined AUC (mean ± sd over the seeds) and Recall@20 warm
// per split. The defaults' models are also scored by dot product (the row "--scoring dot"), not retrained.
import { loadSplit } from '../src/data/split.js';
import type { Split } from '../src/data/types.js';
import { resolveConfig, type TrainConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { evaluateModel, type AucSummary } from '../src/eval/evaluate.js';
import { summarize } from '../src/experiments/stats.js';
import { silentProgress } from '../src/progress.js';

const USAGE = 'usage: ablation.js [--seeds 1,2,3] [--threads N] NAME=SPLIT …';

/** Each row: a label as the flags a user would type, and the config it means. */
const ROWS: Array<[string, Partial<TrainConfig>]> = [
  ['defaults (visual term + ranking stage + decoder, 1 joint epoch, cosine)', {}],
  ['`--epochs 3` (the previous default)', { epochs: 3 }],
  ['`--rank-epochs 0` (visual term only)', { rankEpochs: 0 }],
  ['`--no-visual` (MLP encoder, ranking stage on)', { visual: false, encoderObjective: 'regress' }],
  ['`--no-visual --rank-epochs 0` (the model before the visual term)', { visual: false, encoderObjective: 'regress', rankEpochs: 0 }],
  ['`--no-decoder`', { decoder: false }],
];

interface Run {
  auc: AucSummary;
  dot: AucSummary;
  recallWarm: number;
  seconds: number;
}

function flag(name: string, fallback: string): string {
  const k = process.argv.indexOf(name);
  if (k < 0) return fallback;
  if (k + 1 >= process.argv.length) throw new Error(`${USAGE} (${name} needs a value)`);
  return process.argv[k + 1];
}

async function runs(split: Split, overrides: Partial<TrainConfig>, seeds: number[], threads: number): Promise<Run[]> {
  const out: Run[] = [];
  for (const seed of seeds) {
    const { model, seconds } = await trainVasg(split, resolveConfig({ threads, ...overrides, seed }), silentProgress);
    const report = await evaluateModel(model, split, { threads, seed, progress: silentProgress });
    out.push({ auc: report.auc, dot: report.byScoring.dot, recallWarm: report['recall@20'].warm, seconds });
  }
  return out;
}

/** "0.912 / 0.897 / 0.905" with "± sd" after any value whose sd over the seeds is above 0.003. */
function cell(summaries: AucSummary[]): string {
  return (['warm', 'cold', 'combined'] as const).map((key) => {
    const s = summarize(summaries.map((a) => a[key]));
    return s.sd > 0.003 ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : s.mean.toFixed(3);
  }).join(' / ');
}

const seeds = flag('--seeds', '1,2,3').split(',').map(Number);
const threads = Number(flag('--threads', '2'));
const splits = process.argv.slice(2).filter((a) => /^[\w-]+=/.test(a)).map((a) => a.split('=', 2) as [string, string]);
if (splits.length === 0) throw new Error(USAGE);
const loaded = splits.map(([name, dir]) => [name, loadSplit(dir)] as const);
const recall = (rs: Run[]) => summarize(rs.map((r) => r.recallWarm)).mean.toFixed(3);
console.log(`| configuration | ${loaded.map(([name]) => `\`${name}\` warm / cold / combined`).join(' | ')} | Recall@20 warm (${loaded.map(([n]) => n).join(' / ')}) | train s (${loaded.map(([n]) => n).join(' / ')}) |`);
console.log(`|---|${loaded.map(() => '---|').join('')}---|---|`);
for (const [label, overrides] of ROWS) {
  const measured: Run[][] = [];
  for (const [, split] of loaded) measured.push(await runs(split, overrides, seeds, threads));
  const seconds = measured.map((rs) => summarize(rs.map((r) => r.seconds)).mean.toFixed(0)).join(' / ');
  console.log(`| ${label} | ${measured.map((rs) => cell(rs.map((r) => r.auc))).join(' | ')} | ${measured.map(recall).join(' / ')} | ${seconds} |`);
  if (Object.keys(overrides).length === 0) {
    console.log(`| \`--scoring dot\` (the defaults' models, scored by dot product) | ${measured.map((rs) => cell(rs.map((r) => r.dot))).join(' | ')} | — | — |`);
  }
}
