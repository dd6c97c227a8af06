// Dense symmetric positive-definite solves over OpenBLAS's LAPACK (float32, in place): the closed forms of
// EASE (an item-item weight matrix from an inverted Gram matrix) and ridge regression.
#pragma once
#include <napi.h>

namespace vasg {
// [async] easeWeights(G: Float32Array [n×n], n, threads) → Promise<undefined>
//   G = XᵀX + λI (symmetric positive definite, row-major). In place, with no second n×n buffer:
//   P = G⁻¹ (spotrf + spotri, lower triangle), then G ← B with B_ij = −P_ij / P_jj (i ≠ j), B_jj = 0
//   (Steck 2019, eq. 8). OpenBLAS runs on `threads` threads for the call and is restored after.
//   Throws TypeError, RangeError (n < 1, G.length ≠ n², threads < 1); rejects when G is not positive definite.
// [sync] choleskySolve(A: Float32Array [n×n], n, B: Float32Array [n×m], m)
//   Solves A·X = B for SPD A: B ← X, A ← its Cholesky factor (spotrf + spotrs). Row-major.
//   Throws TypeError, RangeError (n < 1, m < 0, lengths), Error when A is not positive definite.
void InitLinalg(Napi::Env env, Napi::Object exports);
}  // namespace vasg
