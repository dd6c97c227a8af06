// The `vasg` program: one subcommand per pipeline stage, plus `demo` that chains them (run by main.ts; tests walk it).
import { Command } from 'commander';
import { demoCommand } from './demo.js';
import { embedCommand } from './embed.js';
import { evaluateCommand } from './evaluate.js';
import { exportCommand } from './export.js';
import { experimentCommand } from './experiment.js';
import { exportEventsCommand } from './export-events.js';
import { featuresCommand } from './features.js';
import { generateCommand } from './generate.js';
import { importCommand } from './import.js';
import { prepareCommand } from './prepare.js';
import { recommendCommand } from './recommend.js';
import { serveCommand } from './serve.js';
import { abReportCommand } from './ab-report.js';
import { trainCommand } from './train.js';
import { tuneCommand } from './tune.js';

export function buildProgram(): Command {
  const program = new Command('vasg')
    .description('Visually Aware Skip-Gram: users and products in one embedding space from purchases and product images, with cold-start products')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');

  for (const command of [demoCommand(), generateCommand(), importCommand(), featuresCommand(), prepareCommand(), trainCommand(), tuneCommand(), evaluateCommand(), recommendCommand(), embedCommand(), serveCommand(), abReportCommand(), exportCommand(), exportEventsCommand(), experimentCommand()]) {
    program.addCommand(command);
  }
  return program;
}
