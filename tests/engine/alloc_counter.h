// Counts heap allocations, so a test can assert that a decode step allocates nothing. Replaces
// the global operator new / delete: include it from exactly one file of a test binary. Not under
// AddressSanitizer, which owns operator new / delete itself (SMOL_COUNT_ALLOCATIONS is 0 there
// and tests skip the count).
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define SMOL_COUNT_ALLOCATIONS 0
#else
#define SMOL_COUNT_ALLOCATIONS 1
#endif
static std::atomic<long> g_allocations{0};
#if SMOL_COUNT_ALLOCATIONS
void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// GCC takes these frees for frees of its built-in operator new's memory; they are not.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
#endif
