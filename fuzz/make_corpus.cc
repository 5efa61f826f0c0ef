// Writes the fuzz targets' seed corpora: small, valid inputs of each kind
// (every primitive's operations, watch requests, WAL segments and snapshot
// files of a real seeded broker, watch messages it sends), one file each,
// named after what it holds. Regenerate with `fuzz/run.sh --make-corpus`.
//
//   fuzz_make_corpus OUT_DIR   # writes OUT_DIR/<target>/<name>
//
// Deterministic: the same build writes the same files.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "atomix/codec.h"
#include "atomix/log/v1/record.pb.h"
#include "atomix/log/v1/snapshot.pb.h"
#include "atomix/v1/watch.pb.h"
#include "broker-sim/src/disk/snapshot_file.h"
#include "broker-sim/src/disk/wal_entry.h"
#include "broker-sim/src/store/engine_store.h"
#include "fuzz/fuzz_support.h"

namespace {

namespace v1 = atomix::v1;
namespace broker = atomix::broker;
namespace logv1 = atomix::log::v1;
using atomix::fuzz::ParseRequestText;

std::string g_out;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  const std::filesystem::path dir = std::filesystem::path(g_out) / target;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

// One operation of each primitive (and sessions, cancels, transactions),
// on the seeded names; session 1's next sequences are 7 and up.
std::vector<std::pair<std::string, std::vector<std::string>>> Operations() {
  return {
      {"session_open", {R"pb(session { open { ttl_ms: 5000 } })pb"}},
      {"session_keepalive", {R"pb(session_id: 1 session { keep_alive {} })pb"}},
      {"session_close", {R"pb(session_id: 2 session { close {} })pb"}},
      {"open_counter", {R"pb(type: COUNTER name: "c2" open {})pb"}},
      {"counter_ops",
       {R"pb(type: COUNTER name: "c" counter { get {} })pb",
        R"pb(type: COUNTER name: "c" counter { add { delta: -3 } })pb",
        R"pb(type: COUNTER name: "c" counter { compare_and_set { expect: 2 update: 9 } })pb"}},
      {"value_ops",
       {R"pb(type: VALUE name: "v" value { get {} })pb",
        R"pb(type: VALUE name: "v" value { insert { value: "x" } })pb",
        R"pb(type: VALUE name: "v" session_id: 1 sequence: 7
             value { set { value: "y" if_fence { lock: "l" version: 1011 } } })pb"}},
      {"map_put_get",
       {R"pb(type: MAP name: "m" map { put { key: "k9" value: "v9" ttl_ms: 2000 } })pb",
        R"pb(type: MAP name: "m" map { get { key: "k1" } })pb"}},
      {"map_update_remove",
       {R"pb(type: MAP name: "m" map { update { key: "k1" value: "u" } })pb",
        R"pb(type: MAP name: "m" map { remove { key: "k2" } })pb",
        R"pb(type: MAP name: "m" map { contains { key: "k2" } })pb"}},
      {"map_list", {R"pb(type: MAP name: "m" map { list { prefix: "k" limit: 2 } })pb"}},
      {"map_prefix",
       {R"pb(type: MAP name: "m" session_id: 1 sequence: 7
             map { lock_prefix { prefix: "k" try_only: true } })pb",
        R"pb(type: MAP name: "m" map { prefix_locks { limit: 5 } })pb",
        R"pb(type: MAP name: "m" session_id: 1 sequence: 8 map { unlock_prefix { prefix: "k" } })pb",
        R"pb(type: MAP name: "m" map { remove_prefix { prefix: "k" } })pb"}},
      {"map_clear_size",
       {R"pb(type: MAP name: "m" map { size {} })pb",
        R"pb(type: MAP name: "m" map { clear {} })pb"}},
      {"set_ops",
       {R"pb(type: SET name: "s" set { add { element: "z" } })pb",
        R"pb(type: SET name: "s" set { contains { element: "a" } })pb",
        R"pb(type: SET name: "s" set { list { limit: 1 } })pb",
        R"pb(type: SET name: "s" set { remove { element: "b" } })pb"}},
      {"lock_contended",
       {R"pb(type: LOCK name: "l" session_id: 2 sequence: 2 timeout_ms: 1000
             lock { acquire {} })pb",
        R"pb(type: LOCK name: "l" session_id: 1 sequence: 7 lock { release {} })pb"}},
      {"lock_waits", {R"pb(type: LOCK name: "l" session_id: 2 sequence: 2 lock { acquire {} })pb"}},
      {"lock_get", {R"pb(type: LOCK name: "l" lock { get {} })pb"}},
      {"election_ops",
       {R"pb(type: ELECTION name: "e" session_id: 1 sequence: 7
             election { promote { candidate_id: "y" } })pb",
        R"pb(type: ELECTION name: "e" session_id: 1 sequence: 8
             election { anoint { candidate_id: "y" } })pb",
        R"pb(type: ELECTION name: "e" election { get_term {} })pb"}},
      {"election_evict",
       {R"pb(type: ELECTION name: "e" session_id: 2 sequence: 2
             election { evict { candidate_id: "x" } })pb",
        R"pb(type: ELECTION name: "e" session_id: 2 sequence: 3
             election { demote { candidate_id: "y" } })pb"}},
      {"list_ops",
       {R"pb(type: LIST name: "li" list { insert { index: 1 value: "i" } })pb",
        R"pb(type: LIST name: "li" list { set { index: 0 value: "s" } })pb",
        R"pb(type: LIST name: "li" list { slice { start: 0 stop: 3 limit: 2 } })pb",
        R"pb(type: LIST name: "li" list { remove { index: 2 } })pb",
        R"pb(type: LIST name: "li" list { pop {} })pb"}},
      {"list_get_size",
       {R"pb(type: LIST name: "li" list { get { index: 1 } })pb",
        R"pb(type: LIST name: "li" list { size {} })pb",
        R"pb(type: LIST name: "li" list { clear {} })pb"}},
      {"indexed_map_ops",
       {R"pb(type: INDEXED_MAP name: "im" indexed_map { get { key: "a" } })pb",
        R"pb(type: INDEXED_MAP name: "im" indexed_map { navigate { where: NEXT index: 1 } })pb",
        R"pb(type: INDEXED_MAP name: "im" indexed_map { list { after_index: 0 limit: 1 } })pb",
        R"pb(type: INDEXED_MAP name: "im" indexed_map { remove { key: "b" } })pb"}},
      {"multi_map_ops",
       {R"pb(type: MULTI_MAP name: "mm" multi_map { get { key: "a" limit: 1 } })pb",
        R"pb(type: MULTI_MAP name: "mm" multi_map { remove { key: "a" value: "1" } })pb",
        R"pb(type: MULTI_MAP name: "mm" multi_map { list { prefix: "a" } })pb",
        R"pb(type: MULTI_MAP name: "mm" multi_map { contains { key: "a" } })pb"}},
      {"counter_map_ops",
       {R"pb(type: COUNTER_MAP name: "cm" counter_map { set { key: "x" value: 4 } })pb",
        R"pb(type: COUNTER_MAP name: "cm" counter_map {
               compare_and_set { key: "a" expect: 3 update: 1 } })pb",
        R"pb(type: COUNTER_MAP name: "cm" counter_map { list { limit: 1 } })pb",
        R"pb(type: COUNTER_MAP name: "cm" counter_map { remove { key: "a" } })pb"}},
      {"semaphore_ops",
       {R"pb(type: SEMAPHORE name: "sem" session_id: 2 sequence: 2
             semaphore { acquire { permits: 3 } })pb",
        R"pb(type: SEMAPHORE name: "sem" session_id: 1 sequence: 7
             semaphore { release { permits: 1 } })pb",
        R"pb(type: SEMAPHORE name: "sem" semaphore { holders { limit: 2 } })pb",
        R"pb(type: SEMAPHORE name: "sem" semaphore { set_permits { permits: 1 } })pb"}},
      {"rwlock_ops",
       {R"pb(type: READ_WRITE_LOCK name: "rw" session_id: 2 sequence: 2
             read_write_lock { acquire { mode: WRITE } })pb",
        R"pb(type: READ_WRITE_LOCK name: "rw" session_id: 1 sequence: 7
             read_write_lock { release { mode: READ } })pb",
        R"pb(type: READ_WRITE_LOCK name: "rw" read_write_lock { get {} })pb"}},
      {"latch_ops",
       {R"pb(type: LATCH name: "lt" session_id: 2 sequence: 2 latch { await {} })pb",
        R"pb(type: LATCH name: "lt" latch { count_down {} })pb",
        R"pb(type: LATCH name: "lt" latch { count_down {} })pb",
        R"pb(type: LATCH name: "lt" latch { get {} })pb"}},
      {"barrier_ops",
       {R"pb(type: BARRIER name: "b" session_id: 1 sequence: 7 barrier { await {} })pb",
        R"pb(type: BARRIER name: "b" session_id: 2 sequence: 2 barrier { await {} })pb",
        R"pb(type: BARRIER name: "b" barrier { get {} })pb"}},
      {"work_queue_ops",
       {R"pb(type: WORK_QUEUE name: "q" session_id: 2 sequence: 2
             work_queue { take { visibility_timeout_ms: 1000 } })pb",
        R"pb(type: WORK_QUEUE name: "q" session_id: 1 sequence: 7
             work_queue { ack { id: 1 fence: 1026 } })pb",
        R"pb(type: WORK_QUEUE name: "q" work_queue { release { id: 2 fence: 1 } })pb",
        R"pb(type: WORK_QUEUE name: "q" work_queue { get {} })pb"}},
      {"txn",
       {R"pb(txn {
               compare { type: MAP name: "m" key: "k1" exists: true }
               compare { type: COUNTER name: "c" counter: 5 }
               success { type: MAP name: "m" map_put { key: "k1" value: "t" } }
               success { type: COUNTER name: "c" counter_add { delta: 1 } }
               failure { type: VALUE name: "v" value_set { value: "f" } }
             })pb"}},
      {"txn_fence",
       {R"pb(session_id: 1 sequence: 7 txn {
               compare { type: LOCK name: "l" fence: 1011 }
               success { type: MAP name: "m" map_remove { key: "k2" } }
               success { type: VALUE name: "v" value_delete {} }
             })pb"}},
      {"cancel_by_sequence",
       {R"pb(type: LOCK name: "l" session_id: 2 sequence: 2 lock { acquire {} })pb",
        R"pb(session_id: 2 cancel { sequence: 2 })pb"}},
      {"cancel_by_id", {R"pb(cancel { request_id: 1 })pb"}},
      {"exactly_once_retry",
       {R"pb(type: COUNTER name: "c" session_id: 1 sequence: 7 counter { add { delta: 1 } })pb",
        R"pb(type: COUNTER name: "c" session_id: 1 sequence: 7 counter { add { delta: 1 } })pb",
        R"pb(type: COUNTER name: "c" session_id: 1 sequence: 8 ack_sequence: 7
             counter { add { delta: 1 } })pb"}},
      {"wrong_type", {R"pb(type: MAP name: "c" map { get { key: "k" } })pb"}},
      {"bad_name", {R"pb(type: COUNTER name: "" counter { get {} })pb"}},
      {"lost_session",
       {R"pb(type: LOCK name: "l" session_id: 99 sequence: 1 lock { acquire {} })pb"}},
  };
}

v1::RequestBatch BatchOf(const std::vector<std::string>& texts) {
  v1::RequestBatch batch;
  uint64_t id = 1;
  for (const std::string& text : texts) {
    v1::Request r = ParseRequestText(text);
    r.set_id(id++);
    *batch.add_requests() = std::move(r);
  }
  return batch;
}

void RequestCorpus() {
  for (const auto& [name, texts] : Operations()) {
    const v1::RequestBatch batch = BatchOf(texts);
    Write("fuzz_request", name, batch.SerializeAsString());
  }
  // Single requests (Broker.Call).
  Write("fuzz_request", "one_map_put", BatchOf(Operations()[6].second).requests(0).SerializeAsString());
  Write("fuzz_request", "one_lock_acquire",
        BatchOf({R"pb(type: LOCK name: "l2" session_id: 2 sequence: 2 lock { acquire {} })pb"})
            .requests(0)
            .SerializeAsString());
}

void WatchCorpus() {
  struct W {
    const char* name;
    const char* text;
  };
  const std::vector<W> watches = {
      {"counter", R"pb(type: COUNTER name: "c")pb"},
      {"counter_replay", R"pb(type: COUNTER name: "c" replay: true)pb"},
      {"value_resume", R"pb(type: VALUE name: "v" start_revision: 1004)pb"},
      {"map", R"pb(type: MAP name: "m")pb"},
      {"map_key", R"pb(type: MAP name: "m" key: "k1")pb"},
      {"map_prefix", R"pb(type: MAP name: "m" prefix: "k")pb"},
      {"map_prefix_replay", R"pb(type: MAP name: "m" prefix: "k" replay: true)pb"},
      {"map_resume_compacted", R"pb(type: MAP name: "m" start_revision: 1001)pb"},
      {"map_resume", R"pb(type: MAP name: "m" start_revision: 1020)pb"},
      {"map_new_broker",
       R"pb(type: MAP name: "m" start_revision: 1010 broker_id: "other")pb"},
      {"set", R"pb(type: SET name: "s" replay: true)pb"},
      {"lock", R"pb(type: LOCK name: "l" start_revision: 1020)pb"},
      {"election", R"pb(type: ELECTION name: "e" replay: true)pb"},
      {"list", R"pb(type: LIST name: "li" start_revision: 1015)pb"},
      {"indexed_map", R"pb(type: INDEXED_MAP name: "im" replay: true)pb"},
      {"multi_map", R"pb(type: MULTI_MAP name: "mm")pb"},
      {"counter_map_key", R"pb(type: COUNTER_MAP name: "cm" key: "a" replay: true)pb"},
      {"semaphore", R"pb(type: SEMAPHORE name: "sem" replay: true)pb"},
      {"rwlock", R"pb(type: READ_WRITE_LOCK name: "rw" start_revision: 1022)pb"},
      {"latch", R"pb(type: LATCH name: "lt")pb"},
      {"barrier", R"pb(type: BARRIER name: "b" replay: true)pb"},
      {"work_queue", R"pb(type: WORK_QUEUE name: "q" start_revision: 1024)pb"},
      {"unbound", R"pb(type: MAP name: "nothing" replay: true)pb"},
      {"wrong_type", R"pb(type: SET name: "m")pb"},
      {"bad_filter", R"pb(type: COUNTER name: "c" key: "k")pb"},
  };
  for (const W& w : watches) {
    v1::WatchRequest request;
    if (!google::protobuf::TextFormat::ParseFromString(w.text, &request)) {
      std::fprintf(stderr, "bad watch text: %s\n", w.text);
      std::exit(1);
    }
    Write("fuzz_watch_request", w.name, request.SerializeAsString());
  }
}

logv1::InputRecord BatchRecord(int64_t now_us, uint64_t origin,
                               const std::vector<std::string>& texts) {
  logv1::InputRecord record;
  record.set_now_us(now_us);
  record.mutable_batch()->set_origin(origin);
  *record.mutable_batch()->mutable_requests() = BatchOf(texts).requests();
  return record;
}

void WalCorpus() {
  const int64_t t0 = absl::ToUnixMicros(atomix::fuzz::FuzzStart()) + 1000;
  std::vector<logv1::InputRecord> records;
  for (const auto& [name, texts] : Operations()) {
    records.push_back(BatchRecord(t0 + static_cast<int64_t>(records.size()), 3, texts));
  }
  logv1::InputRecord tick;
  tick.set_now_us(t0 + 20'000'000);
  tick.mutable_tick();
  logv1::InputRecord cancel;
  cancel.set_now_us(t0 + 20'000'001);
  cancel.mutable_cancel_origin()->set_origin(3);
  logv1::InputRecord expire;
  expire.set_now_us(t0 + 20'000'002);
  expire.mutable_expire_all();
  logv1::InputRecord resume;
  resume.set_now_us(t0 + 20'000'003);
  resume.mutable_resume();

  const std::string mode0(1, '\0'), mode1(1, '\1'), mode2(1, '\2'), mode3(1, '\3');
  // Mode 0: whole segments, a few records each.
  for (size_t i = 0; i + 3 <= records.size(); i += 3) {
    std::string segment;
    for (size_t j = i; j < i + 3; ++j) {
      segment += broker::EncodeWalEntry(records[j].SerializeAsString());
    }
    Write("fuzz_wal_record", "segment_" + std::to_string(i / 3), mode0 + segment);
  }
  std::string timed;
  for (const logv1::InputRecord* r : {&records[11], &records[12], &tick, &cancel, &expire, &resume}) {
    timed += broker::EncodeWalEntry(r->SerializeAsString());
  }
  Write("fuzz_wal_record", "segment_timed", mode0 + timed);
  const std::string one = broker::EncodeWalEntry(records[6].SerializeAsString());
  Write("fuzz_wal_record", "segment_torn_header", mode0 + one + one.substr(0, 5));
  Write("fuzz_wal_record", "segment_torn_payload", mode0 + one + one.substr(0, one.size() - 3));
  Write("fuzz_wal_record", "segment_zero_tail", mode0 + one + std::string(16, '\0'));
  std::string bad_crc = one;
  bad_crc[5] ^= 0x40;
  Write("fuzz_wal_record", "segment_bad_checksum", mode0 + bad_crc + one);
  // Mode 1: records as FuzzedDataProvider pieces (a count byte is read
  // from the end; each payload with backslashes doubled, ended by "\\n").
  auto piece = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      out += c;
      if (c == '\\') out += '\\';
    }
    return out + "\\n";
  };
  for (size_t i = 0; i < records.size(); i += 6) {
    std::string body;
    int n = 0;
    for (size_t j = i; j < records.size() && j < i + 3; ++j, ++n) {
      body += piece(records[j].SerializeAsString());
    }
    Write("fuzz_wal_record", "framed_" + std::to_string(i / 6),
          mode1 + body + std::string(1, static_cast<char>(n)));
  }
  Write("fuzz_wal_record", "framed_timed",
        mode1 + piece(tick.SerializeAsString()) + piece(cancel.SerializeAsString()) +
            piece(expire.SerializeAsString()) + std::string(1, '\3'));

  // Modes 2 and 3: snapshots of the seeded broker, then after more steps.
  absl::Time now = atomix::fuzz::FuzzStart();
  std::unique_ptr<broker::Broker> b = atomix::fuzz::MakeSeededBroker(&now);
  logv1::EngineSnapshot seeded;
  if (!b->store().Backup(seeded).ok()) std::exit(1);
  Write("fuzz_wal_record", "snapshot_seeded", mode2 + broker::EncodeSnapshot(seeded));
  Write("fuzz_wal_record", "snapshot_payload_seeded", mode3 + seeded.SerializeAsString());
  v1::ResponseBatch ignored;
  std::vector<broker::Completion> completions;
  b->Execute(BatchOf(Operations()[12].second), 4, ignored, completions);  // a lock waiter
  b->Execute(BatchOf(Operations()[22].second), 4, ignored, completions);
  logv1::EngineSnapshot waiting;
  if (!b->store().Backup(waiting).ok()) std::exit(1);
  Write("fuzz_wal_record", "snapshot_waiters", mode2 + broker::EncodeSnapshot(waiting));
  Write("fuzz_wal_record", "snapshot_payload_waiters", mode3 + waiting.SerializeAsString());
  logv1::EngineSnapshot empty;
  Write("fuzz_wal_record", "snapshot_empty", mode2 + broker::EncodeSnapshot(empty));
  std::string cut = broker::EncodeSnapshot(seeded);
  Write("fuzz_wal_record", "snapshot_cut_short", mode2 + cut.substr(0, cut.size() / 2));
}

// FuzzedDataProvider pieces, as fuzz_sdk_decode reads them.
std::string Pieces(uint8_t pick, const std::vector<std::string>& messages) {
  std::string out(1, static_cast<char>(pick));
  for (const std::string& m : messages) {
    for (char c : m) {
      out += c;
      if (c == '\\') out += '\\';
    }
    out += "\\n";
  }
  return out;
}

void SdkCorpus() {
  absl::Time now = atomix::fuzz::FuzzStart();
  std::unique_ptr<broker::Broker> b = atomix::fuzz::MakeSeededBroker(&now);
  broker::Store& store = b->store();
  // Responses: every operation's answers, errors included.
  int n = 0;
  for (const auto& [name, texts] : Operations()) {
    v1::ResponseBatch out;
    std::vector<broker::Completion> completions;
    b->Execute(BatchOf(texts), 9, out, completions);
    if (n++ % 3 == 0 || name == "wrong_type" || name == "counter_ops") {
      Write("fuzz_sdk_decode", "responses_" + name, Pieces(0, {out.SerializeAsString()}));
    }
  }
  v1::ResponseBatch mismatch;
  b->Execute(BatchOf({R"pb(type: COUNTER name: "c" counter { compare_and_set { expect: -1 update: 1 } })pb",
                      R"pb(type: MAP name: "m" map { update { key: "zz" value: "u" } })pb"}),
             mismatch);
  Write("fuzz_sdk_decode", "responses_mismatch", Pieces(1, {mismatch.SerializeAsString()}));

  // Watch streams: header, snapshot parts, events, as the broker sends them.
  struct S {
    const char* name;
    v1::PrimitiveType type;
    const char* primitive;
    uint8_t pick;
  };
  for (const S& s : {S{"map", v1::MAP, "m", 0}, S{"map_typed", v1::MAP, "m", 1},
                     S{"set", v1::SET, "s", 0}, S{"value", v1::VALUE, "v", 1},
                     S{"list", v1::LIST, "li", 2}, S{"counter_map", v1::COUNTER_MAP, "cm", 2},
                     S{"counter", v1::COUNTER, "c", 0}, S{"lock", v1::LOCK, "l", 1}}) {
    absl::StatusOr<broker::WatchStart> start =
        store.StartWatch(s.primitive, s.type, broker::WatchFilter{}, /*snapshot=*/true);
    if (!start.ok()) std::exit(1);
    v1::WatchResponse header;
    header.mutable_header()->set_broker_id(b->id());
    header.mutable_header()->set_revision(start->revision);
    v1::WatchResponse snap;
    *snap.mutable_snapshot() = start->snapshot;
    snap.mutable_snapshot()->set_reason(v1::WatchSnapshot::REPLAY);
    // The same snapshot in two parts.
    v1::WatchResponse first = snap, second = snap;
    first.mutable_snapshot()->set_more(true);
    second.mutable_snapshot()->clear_entries();
    if (snap.snapshot().entries_size() > 1) {
      first.mutable_snapshot()->mutable_entries()->DeleteSubrange(1, snap.snapshot().entries_size() - 1);
      for (int i = 1; i < snap.snapshot().entries_size(); ++i) {
        *second.mutable_snapshot()->add_entries() = snap.snapshot().entries(i);
      }
    }
    v1::WatchResponse events;
    store.ReadWatch(s.primitive, broker::WatchFilter{}, 1001, broker::WatchBudget{}, events);
    Write("fuzz_sdk_decode", std::string("watch_") + s.name,
          Pieces(s.pick, {header.SerializeAsString(), first.SerializeAsString(),
                          second.SerializeAsString(), events.SerializeAsString()}));
    Write("fuzz_sdk_decode", std::string("watch_events_") + s.name,
          Pieces(s.pick, {header.SerializeAsString(), events.SerializeAsString()}));
  }
  // Codecs: the encodings of a few values.
  Write("fuzz_sdk_decode", "codec_ints",
        Pieces(0, {atomix::Codec<int64_t>::Encode(-5), atomix::Codec<uint16_t>::Encode(513),
                   atomix::Codec<int32_t>::Encode(7), atomix::Codec<bool>::Encode(true),
                   atomix::Codec<int8_t>::Encode(-1)}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  g_out = argv[1];
  RequestCorpus();
  WatchCorpus();
  WalCorpus();
  SdkCorpus();
  return 0;
}
