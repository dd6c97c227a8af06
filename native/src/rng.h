// Small, fast, seedable random numbers shared by the native modules (no JS exports).
// SplitMix64 derives independent streams from (seed, stream ids); Xoshiro256** draws.
#pragma once
#include <cstdint>

namespace vasg {

inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Hash of a seed and up to three stream ids: the seed of one independent stream.
inline uint64_t StreamSeed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t s = seed ^ 0x5851F42D4C957F2DULL;
  uint64_t h = SplitMix64(s);
  s = h ^ (a * 0xD6E8FEB86659FD93ULL);
  h = SplitMix64(s);
  s = h ^ (b * 0xA0761D6478BD642FULL);
  h = SplitMix64(s);
  s = h ^ (c * 0xE7037ED1A0B428DBULL);
  return SplitMix64(s);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { Seed(seed); }
  void Seed(uint64_t seed) {
    uint64_t s = seed;
    for (auto& w : s_) w = SplitMix64(s);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  uint32_t Next32() { return static_cast<uint32_t>(Next() >> 32); }
  // Uniform in [0, n) for n < 2^32 (Lemire's multiply-shift; bias < n / 2^32).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>((static_cast<uint64_t>(Next32()) * n) >> 32); }
  // Uniform double in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace vasg
