// Sizes of the tests that exist to show scale (a million entries, a
// thousand watchers). The Release suite runs them at full size. Builds with
// AddressSanitizer run them at a tenth: there they look for memory and
// undefined-behaviour errors, which the smaller size exercises through the
// same code paths, while the full size would take many minutes.
//
// Thread-safety: constants only.
#ifndef ATOMIX_TESTS_SUPPORT_SCALE_H_
#define ATOMIX_TESTS_SUPPORT_SCALE_H_

namespace atomix::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr int kScaleDivisor = 10;
#else
inline constexpr int kScaleDivisor = 1;
#endif

// `full` in the Release suite, full / 10 under sanitizers.
constexpr int Scaled(int full) { return full / kScaleDivisor; }

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_SCALE_H_
