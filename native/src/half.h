// float16 → float32 conversion, the one place the native core widens half-precision features (held as
// float16 bit patterns in a Uint16Array: Node 20 has no Float16Array). F16C where the compiler targets it
// (-march=native on x86-64), else exact bit arithmetic. Exports: halfToFloat, gatherHalf.
#pragma once
#include <napi.h>
#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace vasg {

inline float HalfToFloat(uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);
#else
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? NAN : INFINITY;
  else v = std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
  return (h & 0x8000) ? -v : v;
#endif
}

// dst[k] = src[k] as float32 for k < n.
inline void HalfToFloatRow(const uint16_t* src, float* dst, int64_t n) {
  int64_t k = 0;
#if defined(__AVX512F__)
  for (; k + 16 <= n; k += 16) {
    _mm512_storeu_ps(dst + k, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + k))));
  }
#elif defined(__F16C__)
  for (; k + 8 <= n; k += 8) {
    _mm256_storeu_ps(dst + k, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k))));
  }
#endif
  for (; k < n; ++k) dst[k] = HalfToFloat(src[k]);
}

void InitHalf(Napi::Env env, Napi::Object exports);
}  // namespace vasg
