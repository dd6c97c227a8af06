// Large zeroed buffers backed by transparent huge pages. On the virtual machines this project runs on, a fresh
// V8 ArrayBuffer of 1 GB costs ≈ 3.5 s of 4 KiB page faults when first written (the kernel's THP setting is
// "madvise", so only memory that asks for huge pages gets them); the same memory in 2 MiB pages costs ≈ 0.1 s.
#pragma once
#include <napi.h>

namespace vasg {
// [sync] hugeBuffer(bytes: number) → ArrayBuffer
//   A zero-filled ArrayBuffer of `bytes` bytes from an anonymous mapping aligned to 2 MiB and advised
//   MADV_HUGEPAGE (a no-op where THP is off); unmapped when the ArrayBuffer is collected, and counted as
//   external memory so that V8 collects it as it would its own. Throws TypeError (bytes not an integer ≥ 1),
//   RangeError (the mapping failed: out of memory).
void InitMemory(Napi::Env env, Napi::Object exports);
}  // namespace vasg
