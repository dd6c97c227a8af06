// `node dist/scripts/ablation.js --data SPLIT --out FILE.json [--seed 1] [--runs 3] [--threads 1]`: what each part of
// VASG buys. Each row is today's defaults with one part switched off or changed, named by the flags a user types and
// parsed by `vasg train`'s own flag parser, so a row is exactly that command's model. Every row is trained once per
// seed (seed … seed + runs − 1, one prepared split) and scored by `vasg experiment auc`'s evaluation (the model's own
// ranking, item bias included): AUC, Recall@20 / NDCG@20, exposure@20, plus the training seconds. The JSON has the
// experiment's shape (rows of mean ± sd, wall seconds per row, provenance): copy it to
// docs/results/ablation-NAME.json and `npm run docs:results` renders it.
import fs from 'node:fs';
import { Command } from 'commander';
import { flag as flagOf } from './args.js';
import { addTrainOptions, configFromOptions } from '../src/cli/train.js';
import { loadSplit } from '../src/data/split.js';
import type { Split } from '../src/data/types.js';
import { aucExperiment, type Method } from '../src/experiments/auc.js';
import { provenance } from '../src/experiments/provenance.js';
import { summarize } from '../src/experiments/stats.js';
import { resolveConfig, type TrainConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { consoleProgress, silentProgress } from '../src/progress.js';

const USAGE = 'usage: ablation.js --data SPLIT --out FILE.json [--seed 1] [--runs 3] [--threads 1]';

/** The rows: the defaults, then one change each, as typed after `vasg train`. */
const ROWS = [
  '',
  '--cold-exposure off',
  '--item-bias 0 --cold-exposure off',
  '--rank-epochs 0',
  '--no-visual',
  '--scoring dot',
  '--decoder',
  '--paper',
];

/** A row's config, as `vasg train` builds it from those flags (e.g. --no-visual brings the MLP encoder). */
function configOf(flags: string): TrainConfig {
  const command = addTrainOptions(new Command('train').exitOverride());
  command.parse(flags.split(' ').filter(Boolean), { from: 'user' });
  return configFromOptions(command, command.opts());
}

/** A row for `aucExperiment` that also records each run's training seconds under its name. */
function ablationRow(flags: string, threads: number, trainSeconds: Map<string, number[]>): Method {
  const name = flags === '' ? 'defaults' : `\`${flags}\``;
  const config = configOf(flags);
  trainSeconds.set(name, []);
  return {
    name, seeded: true,
    scorers: async (split: Split, seed: number) => {
      // No similar-items space: it changes nothing the ablation scores (recommendations), only training time.
      const { model, seconds } = await trainVasg(split, resolveConfig({ ...config, similar: 'embedding', threads, seed }), silentProgress);
      trainSeconds.get(name)!.push(seconds);
      return [{ name, ...model.rankingMatrices() }];
    },
  };
}

const flag = (name: string) => flagOf(USAGE, name);
const data = flag('--data');
const out = flag('--out');
if (!data || !out) throw new Error(USAGE);
const threads = Number(flag('--threads') ?? 1);
const split = loadSplit(data);
const trainSeconds = new Map<string, number[]>();
const methods = ROWS.map((flags) => ablationRow(flags, threads, trainSeconds));
const result = await aucExperiment(split, methods, {
  runs: Number(flag('--runs') ?? 3), seed: Number(flag('--seed') ?? 1), threads, config: {}, progress: consoleProgress(), ks: [20],
});
const rows = result.rows.map((row) => ({ ...row, trainSeconds: summarize(trainSeconds.get(row.method)!) }));
const source = provenance({ dir: data, users: split.userIds.length, items: split.itemIds.length, splitSeed: split.summary.seed },
  process.argv, 'node dist/scripts/ablation.js');
fs.writeFileSync(out, JSON.stringify({ ...result, rows, provenance: source }, null, 1));
