// `vasg experiment <names...>`: the paper's experiments on a prepared split, averaged over runs,
// written as one Markdown report (+ SVG figures) into --out, or as JSON with --json. Experiments
// named together share their trained VASG models.
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadSplit } from '../data/split.js';
import type { Split } from '../data/types.js';
import { checkOutputDirectory, writeDirectoryAtomic } from '../data/atomic.js';
import { aucExperiment, tableMethods, type ExperimentOptions, type Method } from '../experiments/auc.js';
import { sensitivityExperiment } from '../experiments/sensitivity.js';
import { relationsExperiment } from '../experiments/relations.js';
import { analysisExperiment } from '../experiments/analysis.js';
import { lineFigure } from '../eval/figures.js';
import { analysisSection, aucSection, relationsSection, sensitivitySection } from '../experiments/report.js';
import { addTrainOptions, configFromOptions } from './train.js';
import { int, kList, num, oneOf, progressFor } from './options.js';
import { DEFAULT_KS } from '../eval/topk.js';
import { provenance } from '../experiments/provenance.js';
import { loadDataset } from '../data/dataset.js';
import { replayExperiment, replaySection } from '../experiments/replay.js';
import { CONFIG_OPTIONS, type TrainConfig } from '../model/config.js';
import { ConfigError } from '../errors.js';
import type { Progress } from '../progress.js';

const EXPERIMENTS = ['auc', 'relations', 'analysis', 'sensitivity', 'all', 'replay'] as const;
type ExperimentName = (typeof EXPERIMENTS)[number];
/** What `all` runs: the paper's experiments on a prepared split (replay takes a data set and runs alone). */
type SplitExperiment = Exclude<ExperimentName, 'all' | 'replay'>;

interface Section {
  markdown: string;
  json: unknown;
  figures: Map<string, string>;
}

/** `linkFigures`: the report will be written with its SVGs (--out), so its Markdown may link them. */
async function runExperiment(name: SplitExperiment, split: Split, options: ExperimentOptions, methods: Method[], linkFigures: boolean): Promise<Section> {
  switch (name) {
    case 'auc': {
      const result = await aucExperiment(split, methods, options);
      return { markdown: aucSection(result, options.runs), json: result, figures: new Map() };
    }
    case 'relations': {
      const result = await relationsExperiment(split, options);
      return { markdown: relationsSection(result, options.runs), json: result, figures: new Map() };
    }
    case 'analysis': {
      const { figures, ...result } = await analysisExperiment(split, options);
      return { markdown: analysisSection(result, linkFigures), json: result, figures };
    }
    case 'sensitivity': {
      const result = await sensitivityExperiment(split, options);
      const figures = new Map<string, string>();
      for (const s of result.series) {
        const x = s.points.map((p) => Number(p.value));
        figures.set(`sensitivity-${s.parameter}.svg`, await lineFigure([
          { name: 'warm', x, y: s.points.map((p) => p.warm.mean) },
          { name: 'cold', x, y: s.points.map((p) => p.cold.mean) },
        ], { title: `AUC vs ${s.parameter}`, xTitle: s.parameter, yTitle: 'AUC' }));
      }
      const links = new Map(linkFigures ? result.series.map((s) => [s.parameter as string, `sensitivity-${s.parameter}.svg`]) : []);
      return { markdown: sensitivitySection(result.series, options.runs, links), json: result, figures };
    }
  }
}

/** `--methods VBPR,VASG`: names as in the table, case-insensitive (`->` for `→`); a big catalog can run only the rows it needs. */
function methodList(value: string): Method[] {
  return value.split(',').map((name) => {
    const wanted = name.trim().toLowerCase().replaceAll('->', '→');
    const method = tableMethods.find((m) => m.name.toLowerCase() === wanted);
    if (!method) throw new InvalidArgumentError(`unknown method "${name.trim()}"; one of ${tableMethods.map((m) => m.name).join(', ')}`);
    return method;
  });
}

export function experimentCommand(): Command {
  const command = new Command('experiment')
    .description('reproduce the paper\'s experiments on a prepared split: auc (Table 2), relations (Table 3), analysis and sensitivity (§6), all; ' +
      'or replay a data set in time order (incremental against full retraining: docs/shop-loop.md)')
    .argument('<names...>', `one or more of ${EXPERIMENTS.join(', ')} (together they share trained models)`,
      (value: string, previous: ExperimentName[] | undefined) => [...(previous ?? []), oneOf(...EXPERIMENTS)(value)])
    .requiredOption('--data <dir>', 'prepared split (output of "vasg prepare"); for replay: a data set in the standard layout with timestamps')
    .addOption(new Option('--batches <n>', 'replay: batches the last part of the interactions arrives in').argParser(int(2, 100)).default(5))
    .addOption(new Option('--incremental <list>', 'replay: training options of the incremental runs only, key=value (walksPerNode=2,rankEpochs=5)').argParser(incrementalOptions))
    .addOption(new Option('--initial-fraction <x>', 'replay: share of the interactions (by time) of the first model').argParser(num(0.05, 0.95)).default(0.8))
    .addOption(new Option('--runs <n>', 'training seeds to average over').argParser(int(1, 100)).default(5))
    .option('--out <dir>', 'directory for report.md, results.json and figures', '')
    .option('--images <dir>', 'folder of product images, found as vasg features finds them: thumbnails in the figures')
    .option('--methods <list>', `Table 2's rows to run, comma-separated (default: all of ${tableMethods.map((m) => m.name).join(', ')})`, methodList)
    .addOption(new Option('--k <list>', 'auc: cut-offs of Recall@K and NDCG@K, comma-separated').argParser(kList).default(DEFAULT_KS, DEFAULT_KS.join(',')))
    .option('--json', 'print the results as JSON');
  addTrainOptions(command);
  return command.action(async (asked: ExperimentName[], options) => {
    const config = configFromOptions(command, options);
    const progress = progressFor(options);
    if (options.out) checkOutputDirectory(options.out, 'report.md'); // before minutes of experiments, not after
    if (asked.includes('replay')) return replay(command, asked, options, config, progress);
    const names = EXPERIMENTS.filter((n): n is SplitExperiment => n !== 'all' && n !== 'replay' && (asked.includes(n) || asked.includes('all')));
    const split = loadSplit(options.data);
    const experimentOptions: ExperimentOptions = { runs: options.runs, seed: config.seed, threads: config.threads, config, progress, images: options.images, ks: options.k };
    const started = Date.now();
    const sections: Record<string, Section> = {};
    const methods: Method[] = options.methods ?? tableMethods;
    for (const n of names) sections[n] = await runExperiment(n, split, experimentOptions, methods, Boolean(options.out));
    const seconds = (Date.now() - started) / 1000;
    // One experiment: its own JSON (auc's "seconds" per method is kept; "totalSeconds" is the whole command).
    const results = names.length === 1 ? { seconds, ...(sections[names[0]].json as object), totalSeconds: seconds } : { ...Object.fromEntries(names.map((n) => [n, sections[n].json])), seconds };
    // The command, date and machine travel with the numbers (docs/results.md is rendered from them).
    const json = { ...results, provenance: provenance({ dir: options.data, users: split.userIds.length, items: split.itemIds.length, splitSeed: split.summary.seed }) };
    // Only analysis alone trains a single model, whatever --runs says.
    const runs = names.every((n) => n === 'analysis') ? `one model (seed ${config.seed})` : `${options.runs} run(s)`;
    const figureCount = names.reduce((sum, n) => sum + sections[n].figures.size, 0);
    const unwritten = !options.out && figureCount > 0 ? [`${figureCount} figure(s) not written: pass --out DIR for the report with its SVG figures.`, ''] : [];
    const markdown = [`# vasg experiment ${names.join(' ')}`, '', `Data: \`${options.data}\` (${split.userIds.length} users, ${split.itemIds.length} products); ` +
      `${runs}; ${seconds.toFixed(0)} s.`, '', ...unwritten, names.map((n) => sections[n].markdown).join('\n\n')].join('\n');
    if (options.out) {
      // One whole-directory write: a rerun never leaves figures of an earlier run beside a new report.
      writeDirectoryAtomic(options.out, [
        ...Object.values(sections).flatMap((section) => [...section.figures]),
        ['report.md', markdown + '\n'],
        ['results.json', JSON.stringify(json, null, 1)],
      ]);
    }
    console.log(options.json ? JSON.stringify(json) : markdown);
  });
}

/** `vasg experiment replay --data DATASET`: scratch against incremental retraining, batch by batch (src/experiments/replay.ts). */
async function replay(command: Command, asked: ExperimentName[], options: Record<string, unknown>, config: TrainConfig, progress: Progress): Promise<void> {
  if (asked.length > 1) throw new ConfigError(`replay runs alone (it takes a data set, the others a prepared split); got ${asked.join(' ')}`);
  const { dataset } = loadDataset(options.data as string, progress);
  // The incremental runs take the training flags given and --incremental's own (the rest: the model's shape, the schedule).
  const given = Object.fromEntries(Object.entries(config).filter(([key]) => {
    const row = CONFIG_OPTIONS.find((o) => o.key === key)!;
    return command.getOptionValueSource(new Option(row.flag).attributeName()) === 'cli';
  })) as Partial<TrainConfig>;
  const incremental = { ...given, ...(options.incremental as Partial<TrainConfig> | undefined) };
  const result = await replayExperiment(dataset, { batches: options.batches as number, initialFraction: options.initialFraction as number, config, incremental, progress });
  const markdown = [`# vasg experiment replay`, '', `Data: \`${options.data}\`; VASG, seed ${config.seed}, ${config.threads} thread(s).`, '', replaySection(result)].join('\n');
  const json = { ...result, provenance: provenance({ dir: options.data as string, users: dataset.userIds.length, items: dataset.itemIds.length }) };
  if (options.out) writeDirectoryAtomic(options.out as string, [['report.md', markdown + '\n'], ['results.json', JSON.stringify(json, null, 1)]]);
  console.log(options.json ? JSON.stringify(json) : markdown);
}

/** `walksPerNode=2,rankEpochs=5`: numeric training options by key, checked against CONFIG_OPTIONS. */
function incrementalOptions(text: string): Partial<TrainConfig> {
  const values: Record<string, number> = {};
  for (const entry of text.split(',').filter((e) => e.trim() !== '')) {
    const [key, value] = entry.split('=').map((s) => s.trim());
    const row = CONFIG_OPTIONS.find((o) => o.key === key);
    const parsed = row?.type.parse?.(value ?? '');
    if (!row || !row.type.valid(parsed)) throw new InvalidArgumentError(`expected key=value with a training option key (${CONFIG_OPTIONS.map((o) => o.key).join(', ')}), found "${entry}"`);
    values[key] = parsed as number;
  }
  return values as Partial<TrainConfig>;
}
