// fuzz_watch_request: arbitrary bytes as a WatchRequest through the
// broker's watch path, as the watch reactor drives it: validation, then
// StartWatch on a memory store holding the seeded state (fuzz_support.h)
// with a small watch history, then more changes to every seeded primitive,
// then ReadWatch from the request's start revision in small reads until no
// progress, resynchronizing from a snapshot when the history is compacted.
//
// Invariants checked beyond "no crash, no sanitizer report":
// - validation answers OK or INVALID_ARGUMENT with a message; StartWatch
//   fails only with FAILED_PRECONDITION (a name bound to another type);
// - a start revision is the store's revision, and a snapshot is at it;
// - reads deliver events at revisions at or after the cursor, ascending,
//   matching the filter, and move the cursor past them.
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "atomix/v1/watch.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/core/validate.h"
#include "broker-sim/src/state/watch_filter.h"
#include "fuzz/fuzz_support.h"

namespace {

namespace v1 = atomix::v1;
namespace broker = atomix::broker;

void Run(const v1::WatchRequest& request) {
  const absl::Status valid = broker::ValidateWatchRequest(request, atomix::fuzz::FuzzLimits());
  ATOMIX_FUZZ_CHECK(valid.ok() || (valid.code() == absl::StatusCode::kInvalidArgument &&
                                   !valid.message().empty()),
                    "watch validation returned %s", valid.ToString().c_str());
  if (!valid.ok()) return;

  absl::Time now = atomix::fuzz::FuzzStart();
  std::unique_ptr<broker::Broker> b = atomix::fuzz::MakeSeededBroker(
      &now, broker::WatchHistoryOptions{.max_events = 24, .max_bytes = 4096});
  broker::Store& store = b->store();

  broker::WatchFilter filter;
  if (request.has_key()) filter.key = request.key();
  filter.prefix = request.prefix();
  const bool snapshot = request.replay();
  absl::StatusOr<broker::WatchStart> start =
      store.StartWatch(request.name(), request.type(), filter, snapshot);
  if (!start.ok()) {
    ATOMIX_FUZZ_CHECK(start.status().code() == absl::StatusCode::kFailedPrecondition,
                      "StartWatch returned %s", start.status().ToString().c_str());
    return;
  }
  ATOMIX_FUZZ_CHECK(start->revision == store.revision(), "watch starts at %lld, store is at %lld",
                    static_cast<long long>(start->revision),
                    static_cast<long long>(store.revision()));
  if (snapshot) {
    ATOMIX_FUZZ_CHECK(start->snapshot.revision() == start->revision,
                      "snapshot at %lld for a start at %lld",
                      static_cast<long long>(start->snapshot.revision()),
                      static_cast<long long>(start->revision));
  }
  int64_t cursor = request.start_revision() > 0 && !snapshot ? request.start_revision()
                                                              : start->revision + 1;

  v1::ResponseBatch ignored;
  now += absl::Seconds(1);
  b->Execute(atomix::fuzz::FollowUpBatch(), ignored);

  const broker::WatchBudget budget{.max_bytes = 512, .max_events = 3, .hard_max_bytes = 2048};
  for (int reads = 0; reads < 64; ++reads) {
    v1::WatchResponse out;
    const broker::WatchRead read = store.ReadWatch(request.name(), filter, cursor, budget, out);
    if (read.compacted) {
      absl::StatusOr<broker::WatchStart> again =
          store.StartWatch(request.name(), request.type(), filter, /*snapshot=*/true);
      ATOMIX_FUZZ_CHECK(again.ok(), "resync StartWatch failed: %s",
                        again.status().ToString().c_str());
      ATOMIX_FUZZ_CHECK(again->revision + 1 > cursor || cursor > store.revision(),
                        "a resync at %lld does not move the cursor %lld on",
                        static_cast<long long>(again->revision), static_cast<long long>(cursor));
      cursor = again->revision + 1;
      continue;
    }
    int64_t last = cursor;
    for (const v1::WatchEvent& event : out.events()) {
      ATOMIX_FUZZ_CHECK(event.revision() >= last, "event at %lld after cursor/event %lld",
                        static_cast<long long>(event.revision()), static_cast<long long>(last));
      ATOMIX_FUZZ_CHECK(filter.Matches(event), "event at %lld does not match the filter",
                        static_cast<long long>(event.revision()));
      last = event.revision();
    }
    if (out.events_size() > 0) {
      ATOMIX_FUZZ_CHECK(read.next > last, "cursor %lld not past the last event %lld",
                        static_cast<long long>(read.next), static_cast<long long>(last));
    }
    ATOMIX_FUZZ_CHECK(read.next >= cursor, "cursor moved back from %lld to %lld",
                      static_cast<long long>(cursor), static_cast<long long>(read.next));
    if (read.next == cursor) break;
    cursor = read.next;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  atomix::fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1::WatchRequest request;
  if (request.ParseFromArray(data, static_cast<int>(size))) Run(request);
  return 0;
}
