// capgraph/graph/large_buffer.hpp — internal: an allocator for the big
// node-major result arrays.
//
// Two things make a fresh 800 MB table slow to fill on the machines we
// measured (docs/benchmarks.md): zero-initialising it before the
// evaluation overwrites every value anyway, and faulting it in 4 KiB pages.
// This allocator default-initialises (no zero fill: every row is written
// whole by the evaluation) and asks for transparent huge pages
// (madvise(MADV_HUGEPAGE), honoured when THP is in "madvise" or "always"
// mode) for blocks of 2 MiB and more.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>

namespace capgraph::detail {

template <class T>
struct LargeBufferAllocator {
  using value_type = T;
  static constexpr std::size_t kHuge = std::size_t{2} << 20;

  LargeBufferAllocator() = default;
  template <class U>
  LargeBufferAllocator(const LargeBufferAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHuge) return std::allocator<T>().allocate(n);
    const std::size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p = std::aligned_alloc(kHuge, rounded);
    if (!p) throw std::bad_alloc();
    ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kHuge) std::allocator<T>().deallocate(p, n);
    else std::free(p);
  }
  // Default-initialise: resize() leaves doubles unwritten.
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  bool operator==(const LargeBufferAllocator<U>&) const noexcept { return true; }
};

}  // namespace capgraph::detail
