// capgraph/graph/large_buffer.hpp — internal: an allocator for the big
// node-major arrays of evaluate() (the kept rows and the block buffers).
//
// It default-initialises: resize() leaves the doubles unwritten, since the
// evaluation writes every row whole (zero-filling a fresh table first
// doubled its memory traffic). Blocks of 2 MiB and more are aligned to
// 2 MiB, so every row of a block buffer (a multiple of 8 points) starts on
// a cache line. (Aligned to 64 bytes instead, through glibc 2.36's
// aligned_alloc, three evaluations in one process left it holding 500 MB
// against 324 MB; with plain operator new, 16-byte aligned, one thread
// took 0.99-1.12 s against 0.94-1.01 s at 100,000 x 1,000.)
//
// It does not ask for transparent huge pages. It used to
// (madvise(MADV_HUGEPAGE)), which is faster when the memory is already
// backed by the host, but on the Firecracker VMs we measure on, freed
// memory goes back to the host in 8 MiB blocks (page_reporting_order=11 on
// the kernel command line), and a huge page is drawn from exactly such
// blocks: writing it the first time cost 1.6-1.8 ms per MiB against
// 0.3-0.4 ms for 4 KiB pages, and a cold 100,000 x 1,000 evaluation took
// 0.68-0.74 s against 0.52-0.58 s without the advice (docs/decisions.md,
// "Huge pages").
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>

namespace capgraph::detail {

template <class T>
struct LargeBufferAllocator {
  using value_type = T;
  static constexpr std::size_t kBig = std::size_t{2} << 20;

  LargeBufferAllocator() = default;
  template <class U>
  LargeBufferAllocator(const LargeBufferAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kBig) return std::allocator<T>().allocate(n);
    const std::size_t rounded = (bytes + kBig - 1) / kBig * kBig;
    void* p = std::aligned_alloc(kBig, rounded);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kBig) std::allocator<T>().deallocate(p, n);
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
