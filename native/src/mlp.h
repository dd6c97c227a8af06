// Fully connected ReLU network (the VASG image-feature decoder) and its weighted MSE loss.
#pragma once
#include <napi.h>

namespace vasg {
// [sync] new Mlp(sizes: number[], {dropout: number, outputRelu: boolean, seed: number})
//   Layers l = 0..L−1 map sizes[l] → sizes[l+1]: Z = A·W_l + b_l (cblas_sgemm), W_l [sizes[l] × sizes[l+1]]
//   row-major. He-uniform init W ~ U(±√(6/sizes[l])) from a seeded stream, b = 0. Hidden layers: ReLU, then
//   inverted dropout (keep w.p. 1−p, scale 1/(1−p)) when training; last layer: ReLU iff outputRelu.
//   Throws TypeError (types), RangeError (fewer than 2 sizes, a size < 1, dropout outside [0, 1)).
// [getter] sizes: number[]
// [sync] forward(x: Float32Array, rows: number, train: boolean) → Float32Array [rows × sizes[L]]
//   train=true keeps the input and activations for backward (dropout masks are implied by the stored
//   post-dropout activations: ∂a/∂z = scale where a > 0, else 0); train=false is deterministic and leaves the
//   training state alone. Dropout draws come from (seed, number of train forwards, layer, row).
//   Throws TypeError, RangeError (rows < 0, x shorter than rows·sizes[0]).
// [sync] backward(gradOut: Float32Array, rows: number) → Float32Array [rows × sizes[0]] (∂loss/∂input)
//   Uses the last train forward; accumulates ∂loss/∂W_l, ∂loss/∂b_l. Throws Error (no train forward yet),
//   RangeError (rows differs from that forward's, gradOut shorter than rows·sizes[L]).
// [sync] adamStep(lr, beta1, beta2, eps): t += 1; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
//   p −= lr·(m/(1−β1^t)) / (√(v/(1−β2^t)) + eps); then the gradients are zeroed. Throws TypeError.
// [sync] zeroGrad(): zeroes the accumulated gradients.
// [sync] getParams() → Float32Array[] copies [W0, b0, W1, b1, …].
// [sync] setParams(params: Float32Array[]): copies them in (Adam moments and step are kept).
//   Throws TypeError, RangeError (count or lengths differ from the layer shapes).
// [sync] mse(pred, target, rowWeights: Float32Array | null, rows, cols, grad) → number
//   loss = Σ_r w_r · mean_c (pred − target)² (w_r = 1 without rowWeights);
//   grad[r,c] = 2·w_r·(pred − target)/cols. Throws TypeError, RangeError (buffers shorter than rows·cols / rows).
// [sync] adamStep(params, grad, m, v, step, lr, beta1, beta2, eps): the same Adam step on one parameter array of a
//   JS learner (step ≥ 1 counts from 1). Throws TypeError, RangeError (step < 1, grad/m/v shorter than params).
// [sync] pairDifferences(first: Int32Array, second: Int32Array, count, a: Float32Array | null, aCols,
//   b: Float32Array | Uint16Array (float16) | null, bCols, bRows, bScale: Float64Array | null, bWeight, out):
//   out[p] = [a[first[p]] − a[second[p]] ; b'[first[p] mod bRows] − b'[second[p] mod bRows]] ([count × (aCols + bCols)]),
//   b' = b widened to float32, and with bScale each value x of row r as float32(bWeight · float32(x · bScale[r])).
//   Throws TypeError, RangeError (a pair outside the rows, short buffers).
void InitMlp(Napi::Env env, Napi::Object exports);
}  // namespace vasg
