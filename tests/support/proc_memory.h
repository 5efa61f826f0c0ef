// Memory of a process as Linux reports it in /proc/<pid>/status, for tests
// that bound what an attack costs the broker.
//
// Thread-safety: free functions; safe from any thread.
#ifndef ATOMIX_TESTS_SUPPORT_PROC_MEMORY_H_
#define ATOMIX_TESTS_SUPPORT_PROC_MEMORY_H_

#include <sys/types.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace atomix::testing {

// The value of `field` ("VmHWM", "VmRSS") of process `pid` in KiB; 0 if
// unknown.
inline int64_t ProcStatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stoll(line.substr(field.size() + 1));
    }
  }
  return 0;
}

// The memory bounds of attack tests are set for the Release broker. A
// broker built with AddressSanitizer also holds shadow memory and a
// quarantine of freed blocks (256 MiB by default), so under the sanitizers
// the bounds allow this much more: that pass looks for memory errors, the
// Release pass holds the bounds.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr int64_t kSanitizerSlackMiB = 1024;
#else
inline constexpr int64_t kSanitizerSlackMiB = 0;
#endif

// Peak resident memory of `pid`, in MiB.
inline int64_t PeakMiB(pid_t pid) { return ProcStatusKiB(pid, "VmHWM") >> 10; }

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_PROC_MEMORY_H_
