// `vasg ab-report`: the A/B test of `vasg serve --model A --model-b B`, read from A's experiment log
// (read-only, so it may run beside the server): what GET /experiment answers.
import fs from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { ARMS, Experiment, type Difference, type ExperimentReport } from '../serve/experiment.js';
import { experimentLogOf } from './serve.js';

export function abReportCommand(): Command {
  return new Command('ab-report')
    .description('per arm of an A/B test (vasg serve --model A --model-b B): users, impressions, clicks, conversions, rates with 95 % intervals, two-proportion z-tests')
    .requiredOption('--model <dir>', 'model A\'s directory (the experiment log is DIR.experiment.log beside it)')
    .option('--json', 'print the report as JSON')
    .action((options: { model: string; json?: boolean }) => {
      const file = experimentLogOf(options.model);
      if (!fs.existsSync(file)) throw new ConfigError(`${file}: no experiment log: start vasg serve --model ${options.model} --model-b B to run an A/B test`, 'model');
      const report = Experiment.open(file, 0.5, 24 * 3600e3, { readOnly: true }).report();
      console.log(options.json ? JSON.stringify(report, null, 1) : formatReport(report));
    });
}

function formatReport(report: ExperimentReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const lines = ['arm  users  impressions  clicks  conversions  click-through (95 % CI)          conversion (95 % CI)'];
  for (const arm of ARMS) {
    const a = report.arms[arm];
    const rate = (p: typeof a.conversion) => `${pct(p.rate)} [${pct(p.low)}, ${pct(p.high)}]`.padEnd(32);
    lines.push(`${arm.padEnd(4)} ${String(a.users).padStart(5)}  ${String(a.impressions).padStart(11)}  ${String(a.clicks).padStart(6)}  ${String(a.conversions).padStart(11)}  ${rate(a.click_through)} ${rate(a.conversion)}`);
  }
  const test = (name: string, d: Difference) => `${name}: B − A = ${pct(d.difference)}, z = ${d.z.toFixed(2)}, p = ${d.p_value === null ? 'n/a' : d.p_value.toPrecision(3)}` +
    ` → ${d.better ? `arm ${d.better} is better (p < 0.05)` : 'no significant difference'}`;
  lines.push(test('click-through', report.click_through), test('conversion', report.conversion));
  return lines.join('\n');
}
