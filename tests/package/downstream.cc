// A downstream program built with only `pkg-config --cflags --libs atomix`:
// increments the counter named by argv[1] on the broker at ATOMIX_BROKER and
// prints "counter=<value>".
#include <cstdio>

#include "atomix/atomix.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s COUNTER\n", argv[0]);
    return 2;
  }
  auto counter = atomix::GetCounter(argv[1]);
  if (!counter.ok()) {
    std::fprintf(stderr, "GetCounter: %s\n", counter.status().ToString().c_str());
    return 1;
  }
  auto n = counter->Increment();
  if (!n.ok()) {
    std::fprintf(stderr, "Increment: %s\n", n.status().ToString().c_str());
    return 1;
  }
  std::printf("counter=%lld\n", static_cast<long long>(n->value));
  return 0;
}
