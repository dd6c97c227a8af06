// `vasg demo`: generate → prepare → train → evaluate on synthetic data, then print the results table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { generate, PRESETS, type PresetName } from '../data/generate.js';
import { prepareSplit, writeSplit } from '../data/split.js';
import { writeDataset } from '../data/dataset.js';
import { trainVasg } from '../model/train.js';
import { evaluateModel, formatReport } from '../eval/evaluate.js';
import { VasgModel } from '../model/vasg-model.js';
import { addTrainOptions, configFromOptions } from './train.js';
import { oneOf, progressFor } from './options.js';
import { formatSummary } from './prepare.js';

export function demoCommand(): Command {
  const presets = Object.keys(PRESETS) as PresetName[];
  const command = new Command('demo')
    .description('run the whole pipeline on generated data and print warm/cold AUC against the baselines')
    .addOption(new Option('--preset <name>', `data size: ${presets.join(', ')}`).argParser(oneOf(...presets)).default('small'))
    .option('--dir <dir>', 'keep data, split and model here (default: a temporary folder, removed afterwards)')
    .option('--json', 'print the evaluation report as JSON');
  addTrainOptions(command);
  return command.action(async (options) => {
    const config = configFromOptions(command, options);
    const progress = progressFor(options);
    const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-demo-'));
    const started = Date.now();
    try {
      const dataset = generate(options.preset, config.seed, progress);
      writeDataset(path.join(dir, 'data'), dataset);
      const split = prepareSplit(dataset, { seed: config.seed }, progress);
      writeSplit(path.join(dir, 'split'), split);
      if (!options.json) console.log(formatSummary(split.summary, 0, path.join(dir, 'split')));
      const trained = await trainVasg(split, config, progress);
      const modelDir = path.join(dir, 'model');
      trained.model.save(modelDir, { summary: split.summary, trainLog: trained.log, rankingLog: trained.rankingLog, encoderLog: trained.encoderLog, trainSeconds: trained.seconds });
      const model = VasgModel.load(modelDir);
      const report = await evaluateModel(model, split, { threads: config.threads, seed: config.seed, progress });
      VasgModel.recordMetrics(modelDir, report);
      const seconds = (Date.now() - started) / 1000;
      if (options.json) {
        console.log(JSON.stringify({ preset: options.preset, seconds, trainSeconds: trained.seconds, ...report }));
      } else {
        console.log(`\n${formatReport(report)}\n\npreset ${options.preset}: ${seconds.toFixed(1)} s in all (training ${trained.seconds.toFixed(1)} s)`);
        if (options.dir) console.log(`data, split and model kept in ${dir}`);
      }
    } finally {
      if (!options.dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
