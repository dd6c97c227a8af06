// `vasg evaluate`: AUC on T_warm / T_cold for the model and the baselines; records them in the manifest.
import { Command, Option } from 'commander';
import { loadSplit } from '../data/split.js';
import { VasgModel } from '../model/vasg-model.js';
import { evaluateModel, formatReport } from '../eval/evaluate.js';
import { DEFAULT_KS } from '../eval/topk.js';
import { configFlag, int, kList, progressFor } from './options.js';

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('AUC (paper eq. 4) of the model and of RAND, MostPop, WBOI (and the Oracle on generated data); the model\'s Recall@K, NDCG@K, coverage, new-product exposure and popularity of its top 20 (docs/evaluation.md)')
    .requiredOption('--model <dir>', 'model directory (output of "vasg train")')
    .requiredOption('--data <dir>', 'the prepared split the model was trained on')
    .addOption(configFlag('threads'))
    .addOption(new Option('--seed <n>', 'seed of the RAND baseline').argParser(int(0)).default(1))
    .addOption(new Option('--k <list>', 'cut-offs of Recall@K and NDCG@K, comma-separated').argParser(kList).default(DEFAULT_KS, DEFAULT_KS.join(',')))
    .option('--json', 'print the report as JSON')
    .action(async (options) => {
      const model = VasgModel.load(options.model);
      const split = loadSplit(options.data);
      const report = await evaluateModel(model, split, { threads: options.threads, seed: options.seed, progress: progressFor(options), ks: options.k });
      VasgModel.recordMetrics(options.model, report);
      console.log(options.json ? JSON.stringify(report) : formatReport(report));
    });
}
