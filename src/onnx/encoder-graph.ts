// The encoder M of a trained model as an ONNX graph, so that any ONNX runtime (a Spark/Ray job,
// Triton) embeds new products exactly as `VasgModel.embedFeatures` does: per-row min–max scaling
// when the model was trained with it, then relu(x·W + b) layers (the last linear), then the
// calibration out · row0 + row1.
import type { VasgModel } from '../model/vasg-model.js';
import { UnsupportedError } from '../errors.js';
import type { Initializer, OnnxGraph, OnnxNode } from './writer.js';

export const ENCODER_INPUT = 'features';
export const ENCODER_OUTPUT = 'embedding';

/** Smallest normal float32: divides a zero range without changing any real one. */
const TINY = 1.1754944e-38;

/** Per row (x − min) / (max − min), and 0 for a constant row, like `minMaxRows`. */
function minMaxNodes(input: string): { nodes: OnnxNode[]; initializers: Initializer[]; output: string } {
  return {
    nodes: [
      { op: 'ReduceMin', inputs: [input], outputs: ['row_min'], attributes: { axes: [1], keepdims: 1 } },
      { op: 'ReduceMax', inputs: [input], outputs: ['row_max'], attributes: { axes: [1], keepdims: 1 } },
      { op: 'Sub', inputs: [input, 'row_min'], outputs: ['shifted'] },
      { op: 'Sub', inputs: ['row_max', 'row_min'], outputs: ['range'] },
      // A constant row has shifted = 0 everywhere, so dividing by TINY gives the 0 that minMaxRows gives.
      { op: 'Max', inputs: ['range', 'tiny'], outputs: ['safe_range'] },
      { op: 'Div', inputs: ['shifted', 'safe_range'], outputs: ['scaled'] },
    ],
    initializers: [{ name: 'tiny', dims: [1], data: Float32Array.of(TINY) }],
    output: 'scaled',
  };
}

export function encoderGraph(model: VasgModel): OnnxGraph {
  const { encoder, featureDim, config } = model.parts;
  if (!encoder) throw new UnsupportedError(`${model.method} has no encoder from image features to export`, model.method, 'newItems');
  const { sizes } = encoder.network;
  const params = encoder.network.getParams();
  const dim = sizes[sizes.length - 1];
  const nodes: OnnxNode[] = [];
  const initializers: Initializer[] = [];
  let x = ENCODER_INPUT;
  if (config.minMaxScale) {
    const scaling = minMaxNodes(x);
    nodes.push(...scaling.nodes);
    initializers.push(...scaling.initializers);
    x = scaling.output;
  }
  for (let l = 0; l + 1 < sizes.length; l++) {
    initializers.push({ name: `W${l}`, dims: [sizes[l], sizes[l + 1]], data: params[2 * l] });
    initializers.push({ name: `b${l}`, dims: [sizes[l + 1]], data: params[2 * l + 1] });
    nodes.push({ op: 'MatMul', inputs: [x, `W${l}`], outputs: [`xw${l}`] });
    nodes.push({ op: 'Add', inputs: [`xw${l}`, `b${l}`], outputs: [`z${l}`] });
    x = `z${l}`;
    if (l + 2 < sizes.length) {
      nodes.push({ op: 'Relu', inputs: [x], outputs: [`h${l}`] });
      x = `h${l}`;
    }
  }
  initializers.push({ name: 'calibration_scale', dims: [dim], data: encoder.calibration.slice(0, dim) });
  initializers.push({ name: 'calibration_offset', dims: [dim], data: encoder.calibration.slice(dim, 2 * dim) });
  nodes.push({ op: 'Mul', inputs: [x, 'calibration_scale'], outputs: ['calibrated'] });
  nodes.push({ op: 'Add', inputs: ['calibrated', 'calibration_offset'], outputs: [ENCODER_OUTPUT] });
  return {
    name: 'vasg_encoder',
    nodes,
    initializers,
    inputs: [{ name: ENCODER_INPUT, dims: ['batch', featureDim] }],
    outputs: [{ name: ENCODER_OUTPUT, dims: ['batch', dim] }],
  };
}
