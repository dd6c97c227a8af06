// Random walks on a CSR graph (the corpus of the skip-gram).
#pragma once
#include <napi.h>

namespace vasg {
// [async] randomWalks(indptr: Int32Array, indices: Int32Array, weights: Float32Array | null,
//                     walksPerNode: number, walkLength: number, seed: number, threads: number)
//           → Promise<Int32Array>
//   nNodes = indptr.length - 1. Output has walksPerNode·nNodes walks of walkLength tokens, concatenated:
//   round r (outer loop) starts one walk from every node, in a per-round shuffled order (seed, r);
//   walk i = r·nNodes + k uses its own RNG stream (seed, i), so the result is identical for any thread count.
//   Next node: uniform among neighbours, or ∝ weights (per-node cumulative weights + binary search; a node whose
//   weights sum to 0 falls back to uniform). A node without neighbours repeats itself until the walk ends.
//   Throws TypeError (wrong argument types), RangeError (indptr not a non-decreasing CSR from 0, indices out of
//   [0, nNodes), weights shorter than indices / negative / not finite, walksPerNode < 0, walkLength < 1,
//   output above 2^31 - 1 tokens).
void InitWalks(Napi::Env env, Napi::Object exports);
}  // namespace vasg
