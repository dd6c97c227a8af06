// `vasg export`: a trained model's parts in formats other systems read. One function per target;
// each writes its output atomically and returns a summary line.
import { Command } from 'commander';
import { VasgModel } from '../model/vasg-model.js';
import { writeFileAtomic } from '../data/atomic.js';
import { encodeModel } from '../onnx/writer.js';
import { ENCODER_INPUT, ENCODER_OUTPUT, encoderGraph } from '../onnx/encoder-graph.js';

interface ExportSummary {
  target: string;
  out: string;
  [key: string]: unknown;
}

/** The encoder M (image features → embedding) as an ONNX graph. */
function exportOnnx(model: VasgModel, file: string): ExportSummary {
  const graph = encoderGraph(model);
  writeFileAtomic(file, encodeModel(graph));
  return { target: 'onnx', out: file, input: ENCODER_INPUT, output: ENCODER_OUTPUT, featureDim: model.parts.featureDim, dim: model.config.dim };
}

export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained model for other runtimes (e.g. the encoder as ONNX)')
    .requiredOption('--model <dir>', 'model directory')
    .option('--onnx <file>', `write the encoder M as ONNX: input "${ENCODER_INPUT}" [batch × I] raw image features, output "${ENCODER_OUTPUT}" [batch × D]`)
    .option('--json', 'print a JSON summary')
    .action((options) => {
      const model = VasgModel.load(options.model);
      const summaries: ExportSummary[] = [];
      if (options.onnx) summaries.push(exportOnnx(model, options.onnx));
      if (summaries.length === 0) throw new Error('export: name at least one target (--onnx FILE)');
      for (const s of summaries) {
        console.log(options.json ? JSON.stringify(s) : `wrote the ${s.target} export to ${s.out}`);
      }
    });
}
