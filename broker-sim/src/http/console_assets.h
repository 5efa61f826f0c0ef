// The web console's files (broker-sim/console/), compiled into the broker
// by cmake/embed_files.cmake, so that the console needs nothing on disk.
//
// Thread-safety: immutable data; safe from any thread.
#ifndef ATOMIX_BROKER_HTTP_CONSOLE_ASSETS_H_
#define ATOMIX_BROKER_HTTP_CONSOLE_ASSETS_H_

#include <string_view>

#include "absl/types/span.h"

namespace atomix::broker {

struct ConsoleAsset {
  std::string_view name;   // file name, e.g. "console.js"
  std::string_view bytes;  // its contents
};

// Every embedded file, in a fixed order.
absl::Span<const ConsoleAsset> ConsoleAssets();

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_HTTP_CONSOLE_ASSETS_H_
