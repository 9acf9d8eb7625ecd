// Tier selection (once, from CPUID and SMOL_ISA) and the public single-call entry points.
#include <cpuid.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernel_table.h"
#include "smol/kernels.h"

namespace smol::kernels {

using namespace detail;

namespace {

// F16C (CPUID.1:ECX bit 29) and AVX512_VNNI (CPUID.7.0:ECX bit 11) straight from CPUID: clang
// 14's __builtin_cpu_supports knows neither name. OS support for the ymm / zmm state is covered
// by the avx2 / avx512f checks, which test XCR0.
bool cpuid_ecx_bit(unsigned leaf, unsigned bit) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(leaf, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (ecx >> bit) & 1u;
}

bool cpu_has(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             cpuid_ecx_bit(1, 29);
    case Isa::kAvx512:
      // The AVX-512 tier uses BW (byte/word ops), VL (256-bit EVEX forms) and VNNI (vpdpbusd,
      // vpdpwssd); a CPU with AVX-512F alone runs the AVX2 tier.
      return cpu_has(Isa::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             cpuid_ecx_bit(7, 11);
  }
  return false;
}

const KernelTable& table_for(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return avx512_kernels();
    case Isa::kAvx2:
      return avx2_kernels();
    case Isa::kScalar:
      break;
  }
  return scalar_kernels();
}

Isa initial_isa() {
  const char* env = std::getenv("SMOL_ISA");
  if (env == nullptr || env[0] == '\0') return best_isa();
  const std::optional<Isa> want = parse_isa(env);
  if (!want) {
    std::fprintf(stderr, "smol kernels: SMOL_ISA=%s is not one of scalar|avx2|avx512; using %s\n",
                 env, isa_name(best_isa()));
    return best_isa();
  }
  if (!cpu_has(*want)) {
    std::fprintf(stderr, "smol kernels: SMOL_ISA=%s is not supported by this CPU; using %s\n", env,
                 isa_name(best_isa()));
    return best_isa();
  }
  return *want;
}

std::atomic<const KernelTable*>& active_slot() {
  static std::atomic<const KernelTable*> slot{&table_for(initial_isa())};
  return slot;
}

}  // namespace

namespace detail {
const KernelTable& active_kernels() { return *active_slot().load(std::memory_order_relaxed); }
}  // namespace detail

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "?";
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (name == isa_name(isa)) return isa;
  }
  return std::nullopt;
}

bool isa_supported(Isa isa) { return cpu_has(isa); }

Isa best_isa() {
  if (cpu_has(Isa::kAvx512)) return Isa::kAvx512;
  if (cpu_has(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kScalar;
}

Isa active_isa() { return active_kernels().isa; }

Status set_isa(Isa isa) {
  if (!cpu_has(isa)) {
    return Error{std::string("ISA tier ") + isa_name(isa) + " is not supported by this CPU"};
  }
  active_slot().store(&table_for(isa), std::memory_order_relaxed);
  return {};
}

void quantize_row_q8_K(const float* x, void* y, int64_t n) {
  SMOL_CHECK(n % kQK == 0, "Q8_K row length must be a multiple of 256");
  active_kernels().quantize_q8_K(x, y, n);
}

float vec_dot_q4_K_q8_K(int64_t n, const void* w, const void* a) {
  SMOL_CHECK(n % kQK == 0, "Q4_K row length must be a multiple of 256");
  return active_kernels().dot_q4_K(n, w, a);
}

float vec_dot_q6_K_q8_K(int64_t n, const void* w, const void* a) {
  SMOL_CHECK(n % kQK == 0, "Q6_K row length must be a multiple of 256");
  return active_kernels().dot_q6_K(n, w, a);
}

float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a) {
  SMOL_CHECK(n % kQK8_0 == 0, "Q8_0 row length must be a multiple of 32");
  return active_kernels().dot_q8_0(n, w, a);
}

float vec_dot_f16_f32(int64_t n, const uint16_t* w, const float* x) {
  return active_kernels().dot_f16(n, w, x);
}

float vec_dot_f32(int64_t n, const float* w, const float* x) {
  return active_kernels().dot_f32(n, w, x);
}

}  // namespace smol::kernels
