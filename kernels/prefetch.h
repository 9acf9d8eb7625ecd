// Private: the software prefetch of the decode row kernels (AVX2 and AVX-512 tiers).
#pragma once

#include <xmmintrin.h>

#include <cstdint>

namespace smol::kernels::detail {

// Decode streams the weights once, and the hardware prefetcher alone leaves bandwidth unused on
// some machines. On a 16-core Xeon it left each core at ~6 GB/s (half of what one core can read);
// asking for the bytes 2 KiB ahead of every block took 4-thread decode from 12-15 to 16-20 tok/s.
// On a Zen 3 it took the AVX2 matvec from 0.68-0.77 to 0.80-0.92 of the machine's read. On a Zen 4
// it costs nothing measurable (docs/performance.md: thread scaling, sessions 6 and 8). Rows are
// contiguous, so this runs on into the next row; a prefetch never faults, also past the end of
// the tensor. Plain SSE: it inlines into either tier's code.
inline constexpr int64_t kPrefetchAhead = 2048;
inline void prefetch_ahead(const uint8_t* block, int64_t bytes) {
  for (int64_t o = 0; o < bytes; o += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(block + kPrefetchAhead + o), _MM_HINT_T0);
  }
}

}  // namespace smol::kernels::detail
