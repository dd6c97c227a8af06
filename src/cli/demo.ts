// `vasg demo`: generate → prepare → train → evaluate on synthetic data, then print the results table;
// with --serve, also render a picture per product and serve the model and its web page with them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { generateWithStyles, PRESETS, type PresetName } from '../data/generate.js';
import { writeProductImages } from '../data/images.js';
import { prepareSplit, writeSplit } from '../data/split.js';
import { writeDataset } from '../data/dataset.js';
import { trainVasg } from '../model/train.js';
import { evaluateModel, formatReport } from '../eval/evaluate.js';
import { VasgModel } from '../model/vasg-model.js';
import { addTrainOptions, configFromOptions } from './train.js';
import { int, oneOf, progressFor } from './options.js';
import { formatSummary } from './prepare.js';
import { startServing } from './serve.js';

export function demoCommand(): Command {
  const presets = Object.keys(PRESETS) as PresetName[];
  const command = new Command('demo')
    .description('run the whole pipeline on generated data and print warm/cold AUC against the baselines; --serve then opens the web page with product pictures')
    .addOption(new Option('--preset <name>', `data size: ${presets.join(', ')}`).argParser(oneOf(...presets)).default('small'))
    .option('--dir <dir>', 'keep data, split and model here (default: a temporary folder, removed afterwards)')
    .option('--serve', 'also render a picture per product (DIR/images), then serve the model and its web page until Ctrl-C')
    .option('--host <host>', 'with --serve: address to bind', '127.0.0.1')
    .addOption(new Option('--port <n>', 'with --serve: port (0: any free port)').argParser(int(0, 65535)).default(8080))
    .option('--json', 'print the evaluation report as JSON');
  addTrainOptions(command);
  return command.action(async (options) => {
    const config = configFromOptions(command, options);
    const progress = progressFor(options);
    const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-demo-'));
    const started = Date.now();
    try {
      const { dataset, styles } = generateWithStyles(options.preset, config.seed, progress);
      // The pictures' folder goes into the model's manifest, so the served page shows them.
      const imagesDir = path.join(dir, 'images');
      if (options.serve) await writeProductImages(imagesDir, dataset, styles, config.seed, progress);
      const images = options.serve ? { images: fs.realpathSync(imagesDir) } : {};
      writeDataset(path.join(dir, 'data'), dataset);
      const split = prepareSplit(dataset, { seed: config.seed }, progress);
      writeSplit(path.join(dir, 'split'), split);
      if (!options.json) console.log(formatSummary(split.summary, 0, path.join(dir, 'split')));
      const trained = await trainVasg(split, config, progress);
      const modelDir = path.join(dir, 'model');
      trained.model.save(modelDir, { summary: split.summary, trainLog: trained.log, rankingLog: trained.rankingLog, encoderLog: trained.encoderLog, trainSeconds: trained.seconds, ...images });
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
      if (options.serve) await serveDemo(modelDir, options.host, options.port, split.userIds[0], options.json);
    } finally {
      if (!options.dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Serves the demo's model (its pictures recorded in the manifest) until Ctrl-C; the link opens on a user's view. */
async function serveDemo(modelDir: string, host: string, port: number, user: string, json: boolean): Promise<void> {
  const served = await startServing({ model: modelDir, host, port });
  const say = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line);
  say(`\nvasg demo: the page is at ${served.address}/?user=${encodeURIComponent(user)} (${served.size} products with pictures); Ctrl-C stops it`);
  await served.stopped;
}
