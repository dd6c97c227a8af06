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
import { int, kList, oneOf, progressFor } from './options.js';
import { DEFAULT_KS } from '../eval/topk.js';
import { provenance } from '../experiments/provenance.js';

const EXPERIMENTS = ['auc', 'relations', 'analysis', 'sensitivity', 'all'] as const;
type ExperimentName = (typeof EXPERIMENTS)[number];

interface Section {
  markdown: string;
  json: unknown;
  figures: Map<string, string>;
}

/** `linkFigures`: the report will be written with its SVGs (--out), so its Markdown may link them. */
async function runExperiment(name: Exclude<ExperimentName, 'all'>, split: Split, options: ExperimentOptions, methods: Method[], linkFigures: boolean): Promise<Section> {
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

/** `--methods VBPR,VASG`: names as in the table, case-insensitive; a big catalog can run only the rows it needs. */
function methodList(value: string): Method[] {
  return value.split(',').map((name) => {
    const method = tableMethods.find((m) => m.name.toLowerCase() === name.trim().toLowerCase());
    if (!method) throw new InvalidArgumentError(`unknown method "${name.trim()}"; one of ${tableMethods.map((m) => m.name).join(', ')}`);
    return method;
  });
}

export function experimentCommand(): Command {
  const command = new Command('experiment')
    .description('reproduce the paper\'s experiments on a prepared split: auc (Table 2), relations (Table 3), analysis and sensitivity (§6), all')
    .argument('<names...>', `one or more of ${EXPERIMENTS.join(', ')} (together they share trained models)`,
      (value: string, previous: ExperimentName[] | undefined) => [...(previous ?? []), oneOf(...EXPERIMENTS)(value)])
    .requiredOption('--data <dir>', 'prepared split (output of "vasg prepare")')
    .addOption(new Option('--runs <n>', 'training seeds to average over').argParser(int(1, 100)).default(5))
    .option('--out <dir>', 'directory for report.md, results.json and figures', '')
    .option('--images <dir>', 'folder of product images, found as vasg features finds them: thumbnails in the figures')
    .option('--methods <list>', `Table 2's rows to run, comma-separated (default: all of ${tableMethods.map((m) => m.name).join(', ')})`, methodList)
    .addOption(new Option('--k <list>', 'auc: cut-offs of Recall@K and NDCG@K, comma-separated').argParser(kList).default(DEFAULT_KS, DEFAULT_KS.join(',')))
    .option('--json', 'print the results as JSON');
  addTrainOptions(command);
  return command.action(async (asked: ExperimentName[], options) => {
    const names = EXPERIMENTS.filter((n): n is Exclude<ExperimentName, 'all'> => n !== 'all' && (asked.includes(n) || asked.includes('all')));
    const config = configFromOptions(command, options);
    const progress = progressFor(options);
    if (options.out) checkOutputDirectory(options.out, 'report.md'); // before minutes of experiments, not after
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
