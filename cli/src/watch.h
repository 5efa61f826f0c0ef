// Streaming watch events: shared by `atomix watch KIND NAME` and
// `atomix map watch`, and by `atomix elect --observe`.
//
// Thread-safety: RunWatch() runs on the main thread.
#ifndef ATOMIX_CLI_WATCH_H_
#define ATOMIX_CLI_WATCH_H_

#include <cstdint>
#include <optional>
#include <string>

#include "cli/src/context.h"

namespace atomix::cli {

struct WatchArgs {
  // counter, value, map, set, lock or election.
  std::string kind;
  std::string name;
  // map only: one key, or the keys under a prefix.
  std::optional<std::string> key;
  std::string prefix;
  // Start with every change at this revision or later.
  std::optional<int64_t> from;
  // election: print only changes of leader or term (elect --observe), and
  // start with the current term.
  bool leaders_only = false;
};

// The watch kinds, for help texts and checks.
inline constexpr const char* kWatchKinds = "counter, value, map, set, lock, election";

// Prints the events until SIGINT or SIGTERM (exit 0), or until the watch
// ends with an error.
int RunWatch(const Context& ctx, const WatchArgs& args);

}  // namespace atomix::cli

#endif  // ATOMIX_CLI_WATCH_H_
