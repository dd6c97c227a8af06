#include "memory.h"
#include <sys/mman.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace vasg {

static constexpr size_t kHugePage = size_t{2} << 20;

/** The whole mapping behind one buffer, to unmap it. */
struct Mapping {
  void* base;
  size_t length;
  int64_t bytes;
};

static Napi::Value HugeBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "bytes must be a number");
  const double value = info[0].As<Napi::Number>().DoubleValue();
  if (!(value >= 1) || value != static_cast<double>(static_cast<int64_t>(value))) throw Napi::TypeError::New(env, "bytes must be an integer >= 1");
  const size_t bytes = static_cast<size_t>(value);
  // Over-allocate by one huge page so that the buffer can start on a 2 MiB boundary.
  const size_t length = bytes + kHugePage;
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw Napi::RangeError::New(env, std::string("hugeBuffer: mmap of ") + std::to_string(bytes) + " bytes: " + std::strerror(errno));
  const uintptr_t aligned = (reinterpret_cast<uintptr_t>(base) + kHugePage - 1) & ~(kHugePage - 1);
  madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
  auto* mapping = new Mapping{base, length, static_cast<int64_t>(bytes)};
  Napi::MemoryManagement::AdjustExternalMemory(env, mapping->bytes);
  return Napi::ArrayBuffer::New(env, reinterpret_cast<void*>(aligned), bytes, [](Napi::Env env, void*, Mapping* m) {
    munmap(m->base, m->length);
    Napi::MemoryManagement::AdjustExternalMemory(env, -m->bytes);
    delete m;
  }, mapping);
}

void InitMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("hugeBuffer", Napi::Function::New(env, HugeBuffer, "hugeBuffer"));
}

}  // namespace vasg
