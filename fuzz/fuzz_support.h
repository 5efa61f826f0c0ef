// Shared by the fuzz targets and the corpus generator: the small broker
// state every broker target starts from (sessions and one primitive of each
// type, some of them held), built from requests written as protobuf text,
// and a check that aborts with a message (libFuzzer then saves the input).
//
// Thread-safety: none; each fuzz target runs inputs one at a time.
#ifndef ATOMIX_FUZZ_FUZZ_SUPPORT_H_
#define ATOMIX_FUZZ_FUZZ_SUPPORT_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "fuzz/fuzz_check.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/store/memory_store.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/text_format.h"

namespace atomix::fuzz {

// Silences protobuf's log of unparsable input (invalid UTF-8 in string
// fields): expected here, and slow to print for every input.
inline void QuietProtobuf() { google::protobuf::SetLogHandler(nullptr); }

// The logical time every seeded broker starts at.
inline absl::Time FuzzStart() { return absl::FromUnixSeconds(1'700'000'000); }

// The limits of the fuzzed broker: the defaults, with pages kept small so
// that paging paths are reached by small inputs.
inline broker::Limits FuzzLimits() {
  broker::Limits limits;
  limits.default_page_size = 4;
  limits.max_page_size = 16;
  limits.max_page_bytes = 256;
  limits.max_unacked_responses = 16;
  return limits;
}

inline v1::Request ParseRequestText(const std::string& text) {
  v1::Request request;
  if (!google::protobuf::TextFormat::ParseFromString(text, &request)) {
    std::fprintf(stderr, "bad request text: %s\n", text.c_str());
    std::abort();
  }
  return request;
}

// The seeded state: sessions 1 and 2 (session id base 0), and one primitive
// of each type with some content; session 1 holds lock "l", a read lock on
// "rw", a semaphore permit, leads election "e" and has an ephemeral map
// entry. Request ids are 1000 and up. The revision after them is 1000 + the
// number of mutations.
inline std::vector<std::string> SeedStateTexts() {
  return {
      R"pb(session { open { ttl_ms: 60000 } })pb",
      R"pb(session { open { ttl_ms: 60000 } })pb",
      R"pb(type: COUNTER name: "c" counter { set { value: 5 } })pb",
      R"pb(type: VALUE name: "v" value { set { value: "hello" } })pb",
      R"pb(type: MAP name: "m" map { put { key: "k1" value: "v1" } })pb",
      R"pb(type: MAP name: "m" map { put { key: "k2" value: "v2" } })pb",
      R"pb(type: MAP name: "m" session_id: 1 sequence: 1
           map { put { key: "eph" value: "e" ephemeral: true } })pb",
      R"pb(type: MAP name: "m" map { put { key: "ttl" value: "t" ttl_ms: 5000 } })pb",
      R"pb(type: SET name: "s" set { add { element: "a" } })pb",
      R"pb(type: SET name: "s" set { add { element: "b" } })pb",
      R"pb(type: LOCK name: "l" session_id: 1 sequence: 2 lock { acquire {} })pb",
      R"pb(type: ELECTION name: "e" session_id: 1 sequence: 3
           election { enter { candidate_id: "x" } })pb",
      R"pb(type: ELECTION name: "e" session_id: 2 sequence: 1
           election { enter { candidate_id: "y" } })pb",
      R"pb(type: LIST name: "li" list { append { values: "a" values: "b" values: "c" } })pb",
      R"pb(type: INDEXED_MAP name: "im" indexed_map { put { key: "a" value: "1" } })pb",
      R"pb(type: INDEXED_MAP name: "im" indexed_map { put { key: "b" value: "2" } })pb",
      R"pb(type: MULTI_MAP name: "mm" multi_map { put { key: "a" value: "1" } })pb",
      R"pb(type: MULTI_MAP name: "mm" multi_map { put { key: "a" value: "2" } })pb",
      R"pb(type: COUNTER_MAP name: "cm" counter_map { add { key: "a" delta: 3 } })pb",
      R"pb(type: SEMAPHORE name: "sem" semaphore { init { permits: 3 } })pb",
      R"pb(type: SEMAPHORE name: "sem" session_id: 1 sequence: 4
           semaphore { acquire { permits: 1 } })pb",
      R"pb(type: READ_WRITE_LOCK name: "rw" session_id: 1 sequence: 5
           read_write_lock { acquire { mode: READ } })pb",
      R"pb(type: LATCH name: "lt" latch { try_set_count { count: 2 } })pb",
      R"pb(type: BARRIER name: "b" barrier { init { parties: 2 } })pb",
      R"pb(type: WORK_QUEUE name: "q" work_queue { push { items: "j1" items: "j2" } })pb",
      R"pb(type: WORK_QUEUE name: "q" session_id: 1 sequence: 6
           work_queue { take { try_only: true visibility_timeout_ms: 30000 } })pb",
  };
}

inline v1::RequestBatch SeedStateBatch() {
  v1::RequestBatch batch;
  uint64_t id = 1000;
  for (const std::string& text : SeedStateTexts()) {
    v1::Request request = ParseRequestText(text);
    request.set_id(id++);
    *batch.add_requests() = std::move(request);
  }
  return batch;
}

// A broker over a memory store whose clock reads `*now`, holding the
// seeded state. Aborts if a seed request fails (the fixture is wrong).
// `history` bounds the watch history (small ones reach compaction).
inline std::unique_ptr<broker::Broker> MakeSeededBroker(
    const absl::Time* now, broker::WatchHistoryOptions history = {}) {
  const broker::Limits limits = FuzzLimits();
  auto store = std::make_unique<broker::MemoryStore>(
      limits, [now] { return *now; }, /*session_id_base=*/0,
      history, /*first_revision=*/1000);
  auto broker = std::make_unique<broker::Broker>(std::move(store), limits,
                                                 "fuzz-broker");
  static const v1::RequestBatch seed = SeedStateBatch();
  v1::ResponseBatch out;
  broker->Execute(seed, out);
  for (const v1::Response& response : out.responses()) {
    if (response.has_error() && response.error().code() != 0) {
      std::fprintf(stderr, "seed request %llu failed: %s\n",
                   static_cast<unsigned long long>(response.id()),
                   response.error().message().c_str());
      std::abort();
    }
  }
  return broker;
}

// Changes to every seeded primitive (after a watch starts, after a
// snapshot loads), with ids 5000 and up.
inline const v1::RequestBatch& FollowUpBatch() {
  static const v1::RequestBatch batch = [] {
    v1::RequestBatch b;
    uint64_t id = 5000;
    for (const char* text : {
             R"pb(type: COUNTER name: "c" counter { add { delta: 2 } })pb",
             R"pb(type: VALUE name: "v" value { delete {} })pb",
             R"pb(type: MAP name: "m" map { put { key: "k1" value: "v1b" } })pb",
             R"pb(type: MAP name: "m" map { remove { key: "k2" } })pb",
             R"pb(type: MAP name: "m" map { put { key: "k3" value: "v3" } })pb",
             R"pb(type: SET name: "s" set { remove { element: "a" } })pb",
             R"pb(type: LOCK name: "l" session_id: 1 sequence: 7 lock { release {} })pb",
             R"pb(type: ELECTION name: "e" session_id: 1 sequence: 8
                  election { leave { candidate_id: "x" } })pb",
             R"pb(type: LIST name: "li" list { pop { tail: true } })pb",
             R"pb(type: INDEXED_MAP name: "im" indexed_map { remove { key: "a" } })pb",
             R"pb(type: MULTI_MAP name: "mm" multi_map { remove_key { key: "a" } })pb",
             R"pb(type: COUNTER_MAP name: "cm" counter_map { add { key: "b" delta: 1 } })pb",
             R"pb(type: SEMAPHORE name: "sem" semaphore { set_permits { permits: 5 } })pb",
             R"pb(type: LATCH name: "lt" latch { count_down {} })pb",
             R"pb(type: WORK_QUEUE name: "q" work_queue { push { items: "j3" } })pb",
         }) {
      v1::Request r = ParseRequestText(text);
      r.set_id(id++);
      *b.add_requests() = std::move(r);
    }
    return b;
  }();
  return batch;
}

}  // namespace atomix::fuzz

#endif  // ATOMIX_FUZZ_FUZZ_SUPPORT_H_
