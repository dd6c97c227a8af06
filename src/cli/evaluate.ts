// `vasg evaluate`: AUC on T_warm / T_cold for the model and the baselines; records them in the manifest.
import { Command, Option } from 'commander';
import { loadSplit } from '../data/split.js';
import { VasgModel } from '../model/vasg-model.js';
import { evaluateModel, formatReport } from '../eval/evaluate.js';
import { configFlag, int, progressFor } from './options.js';

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('AUC (paper eq. 4) of the model and of RAND, MostPop, WBOI (and the Oracle on generated data)')
    .requiredOption('--model <dir>', 'model directory (output of "vasg train")')
    .requiredOption('--data <dir>', 'the prepared split the model was trained on')
    .addOption(configFlag('threads'))
    .addOption(new Option('--seed <n>', 'seed of the RAND baseline').argParser(int(0)).default(1))
    .option('--json', 'print the report as JSON')
    .action(async (options) => {
      const model = VasgModel.load(options.model);
      const split = loadSplit(options.data);
      const report = await evaluateModel(model, split, { threads: options.threads, seed: options.seed, progress: progressFor(options) });
      VasgModel.recordMetrics(options.model, report);
      console.log(options.json ? JSON.stringify(report) : formatReport(report));
    });
}
