// WaitUntil: polls a condition, for tests.
//
//   ASSERT_TRUE(WaitUntil([&] { return done.load(); }, std::chrono::seconds(5)));
//
// Thread-safety: a pure function of its arguments.
#ifndef ATOMIX_TESTS_SUPPORT_WAIT_UNTIL_H_
#define ATOMIX_TESTS_SUPPORT_WAIT_UNTIL_H_

#include <chrono>
#include <functional>
#include <thread>

namespace atomix::testing {

// Polls `done` every 2 ms until it holds or `timeout` passes.
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_WAIT_UNTIL_H_
