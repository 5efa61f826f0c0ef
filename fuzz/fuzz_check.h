// The fuzz targets' invariant check, which needs nothing of the broker or
// the SDK, so every target can use it.
//
//   ATOMIX_FUZZ_CHECK(out.responses_size() == n, "%d responses", out.responses_size());
//
// Thread-safety: a macro; the targets run single-threaded.
#ifndef ATOMIX_FUZZ_FUZZ_CHECK_H_
#define ATOMIX_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

// Aborts naming the broken invariant; libFuzzer reports the input.
#define ATOMIX_FUZZ_CHECK(cond, ...)                                   \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "invariant broken: %s: ", #cond);           \
      std::fprintf(stderr, __VA_ARGS__);                               \
      std::fprintf(stderr, "\n");                                      \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // ATOMIX_FUZZ_FUZZ_CHECK_H_
