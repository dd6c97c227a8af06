// `vasg tune`: random search over the main training flags on a validation split carved from training.
import { Command, Option } from 'commander';
import { loadSplit } from '../data/split.js';
import { DEFAULT_TUNE_METRIC, settingsAsFlags, tune, TUNE_METRICS, type TuneResult } from '../eval/tune.js';
import { configFlag, int, num, oneOf, progressFor } from './options.js';

export function tuneCommand(): Command {
  return new Command('tune')
    .description('search the main training flags on a validation split carved from the training pairs (the test pairs are never used)')
    .requiredOption('--data <dir>', 'prepared split (output of "vasg prepare")')
    .addOption(new Option('--trials <n>', 'configurations to try, the defaults first').argParser(int(1, 10000)).default(20))
    .addOption(new Option('--budget-minutes <m>', 'stop starting new trials after this many minutes').argParser(num(0)).default(60))
    .addOption(new Option('--metric <name>', 'validation metric trials are ranked by: recall@20 or ndcg@20 over one list of warm and cold products (what a shop shows), or combined-auc').argParser(oneOf(...TUNE_METRICS)).default(DEFAULT_TUNE_METRIC))
    .addOption(configFlag('threads'))
    .addOption(new Option('--seed <n>', 'seed of the validation split and of the search').argParser(int(0, 2 ** 31 - 1)).default(1))
    .option('--json', 'print the trials as JSON')
    .action(async (options) => {
      const split = loadSplit(options.data);
      const result = await tune(split, { trials: options.trials, budgetMinutes: options.budgetMinutes, seed: options.seed, threads: options.threads, base: {}, metric: options.metric },
        progressFor(options));
      console.log(options.json ? JSON.stringify({ ...result, best: settingsAsFlags(result.trials[0].settings) }) : formatTrials(result));
    });
}

function formatTrials({ trials, validation, metric }: TuneResult): string {
  const keys = Object.keys(trials[0].settings);
  const header = ['recall@20', 'ndcg@20', 'combined', 'warm', 'cold', ...keys, 'seconds'];
  const rows = trials.map((t) => [t['recall@20'].toFixed(4), t['ndcg@20'].toFixed(4), t.combined.toFixed(4), t.warm.toFixed(4), t.cold.toFixed(4),
    ...keys.map((k) => String(t.settings[k as keyof typeof t.settings])), t.seconds.toFixed(0)]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c])).join('  ');
  return [
    `validation split from the training pairs: ${validation.users} users, ${validation.warmPairs} warm and ${validation.coldPairs} cold pairs; ranked by ${metric} (recall@20/ndcg@20: all pairs, one list)`,
    line(header),
    ...rows.map(line),
    `best: vasg train ${settingsAsFlags(trials[0].settings)}`,
  ].join('\n');
}
