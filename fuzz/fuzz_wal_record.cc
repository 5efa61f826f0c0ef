// fuzz_wal_record: the disk store's decoders of what it reads back at
// start: write-ahead log entries (disk/wal_entry.h) and the input records
// they hold, and snapshot files (disk/snapshot_file.h) and the engine state
// they hold. The first byte picks what the rest is:
//   0  a raw WAL segment;
//   1  records, each framed as a valid entry (so that checksums pass and
//      the records reach the engine), then raw trailing bytes;
//   2  a raw snapshot file;
//   3  a snapshot payload, framed as a valid snapshot file.
// Records are replayed as the disk store does (EngineStore::Restore) onto
// the seeded state, their batches first checked as the broker checks them
// before logging; a loaded snapshot then serves a batch, a tick and the end
// of every session, and is backed up and loaded again.
//
// Invariants checked beyond "no crash, no sanitizer report":
// - a valid entry re-encodes to its own bytes, and valid framing reads
//   back as exactly the records framed;
// - a snapshot file written by EncodeSnapshot decodes to its payload;
// - the revision never decreases while replaying;
// - a state that loaded and was backed up loads again.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "atomix/log/v1/record.pb.h"
#include "atomix/log/v1/snapshot.pb.h"
#include "broker-sim/src/core/validate.h"
#include "broker-sim/src/disk/snapshot_file.h"
#include "broker-sim/src/disk/wal_entry.h"
#include "broker-sim/src/store/engine_store.h"
#include "fuzz/fuzz_support.h"

namespace {

namespace v1 = atomix::v1;
namespace broker = atomix::broker;
namespace logv1 = atomix::log::v1;

constexpr uint32_t kMaxEntryBytes = 1 << 20;

broker::EngineStore& Engine(broker::Broker& b) {
  return static_cast<broker::EngineStore&>(b.store());
}

// Replays one record's payload as the disk store does, keeping only the
// requests the broker would have logged.
void Replay(broker::Broker& b, absl::string_view payload) {
  logv1::InputRecord record;
  if (!record.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return;
  if (record.has_batch()) {
    auto* requests = record.mutable_batch()->mutable_requests();
    std::vector<v1::Request> valid;
    for (v1::Request& r : *requests) {
      if (broker::ValidateRequest(r, atomix::fuzz::FuzzLimits()).ok()) {
        valid.push_back(std::move(r));
      }
    }
    requests->Clear();
    for (v1::Request& r : valid) *requests->Add() = std::move(r);
  }
  const int64_t before = b.store().revision();
  Engine(b).Restore(record);
  ATOMIX_FUZZ_CHECK(b.store().revision() >= before, "replay moved the revision from %lld to %lld",
                    static_cast<long long>(before),
                    static_cast<long long>(b.store().revision()));
}

// Reads a segment as Wal::Open does; returns the payloads read.
std::vector<std::string> ScanSegment(absl::string_view bytes, broker::Broker& b) {
  std::vector<std::string> payloads;
  size_t offset = 0;
  while (offset < bytes.size()) {
    const absl::string_view rest = bytes.substr(offset);
    const broker::WalEntry entry = broker::ReadWalEntry(rest, kMaxEntryBytes);
    if (!entry.problem.empty()) break;
    ATOMIX_FUZZ_CHECK(entry.size == broker::kWalEntryHeader + entry.payload.size() &&
                          entry.size <= rest.size() && !entry.payload.empty(),
                      "entry at offset %zu: size %zu, payload %zu, %zu bytes left", offset,
                      entry.size, entry.payload.size(), rest.size());
    ATOMIX_FUZZ_CHECK(broker::EncodeWalEntry(entry.payload) == rest.substr(0, entry.size),
                      "entry at offset %zu does not re-encode to its bytes", offset);
    payloads.emplace_back(entry.payload);
    Replay(b, entry.payload);
    offset += entry.size;
  }
  return payloads;
}

// Loads `snapshot` into a fresh store; if it loads, uses it, backs it up
// and loads the backup again.
void UseSnapshot(const logv1::EngineSnapshot& snapshot) {
  absl::Time now = atomix::fuzz::FuzzStart();
  auto fresh = [&now] {
    const broker::Limits limits = atomix::fuzz::FuzzLimits();
    return std::make_unique<broker::Broker>(
        std::make_unique<broker::MemoryStore>(limits, [&now] { return now; }), limits,
        "fuzz-broker");
  };
  std::unique_ptr<broker::Broker> b = fresh();
  if (!Engine(*b).LoadSnapshot(snapshot).ok()) return;
  now = std::max(now, Engine(*b).now()) + absl::Seconds(1);
  v1::ResponseBatch out;
  b->Execute(atomix::fuzz::FollowUpBatch(), out);
  std::vector<broker::Completion> completions;
  now += absl::Hours(25);
  b->Tick(now, completions);
  b->ExpireAllSessions(completions);

  logv1::EngineSnapshot backup;
  ATOMIX_FUZZ_CHECK(b->store().Backup(backup).ok(), "backup of a loaded state failed");
  const std::string file = broker::EncodeSnapshot(backup);
  absl::StatusOr<logv1::EngineSnapshot> decoded = broker::DecodeSnapshot("backup.snap", file);
  ATOMIX_FUZZ_CHECK(decoded.ok(), "a backup does not decode: %s",
                    decoded.status().ToString().c_str());
  std::unique_ptr<broker::Broker> again = fresh();
  const absl::Status reloaded = Engine(*again).LoadSnapshot(*decoded);
  ATOMIX_FUZZ_CHECK(reloaded.ok(), "a backup of a loaded state does not load: %s",
                    reloaded.ToString().c_str());
  ATOMIX_FUZZ_CHECK(again->store().revision() == b->store().revision(),
                    "the reloaded backup is at revision %lld, not %lld",
                    static_cast<long long>(again->store().revision()),
                    static_cast<long long>(b->store().revision()));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  atomix::fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 4;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode) {
    case 0: {
      absl::Time now = atomix::fuzz::FuzzStart();
      std::unique_ptr<broker::Broker> b = atomix::fuzz::MakeSeededBroker(&now);
      ScanSegment(rest, *b);
      break;
    }
    case 1: {
      FuzzedDataProvider provider(data + 1, size - 1);
      std::vector<std::string> framed;
      std::string segment;
      const int records = provider.ConsumeIntegralInRange<int>(0, 8);
      for (int i = 0; i < records && provider.remaining_bytes() > 0; ++i) {
        std::string payload = provider.ConsumeRandomLengthString(4096);
        if (payload.empty()) continue;
        segment += broker::EncodeWalEntry(payload);
        framed.push_back(std::move(payload));
      }
      segment += provider.ConsumeRemainingBytesAsString();
      absl::Time now = atomix::fuzz::FuzzStart();
      std::unique_ptr<broker::Broker> b = atomix::fuzz::MakeSeededBroker(&now);
      const std::vector<std::string> read = ScanSegment(segment, *b);
      ATOMIX_FUZZ_CHECK(read.size() >= framed.size(), "%zu records framed, %zu read back",
                        framed.size(), read.size());
      for (size_t i = 0; i < framed.size(); ++i) {
        ATOMIX_FUZZ_CHECK(read[i] == framed[i], "record %zu reads back different", i);
      }
      break;
    }
    case 2: {
      absl::StatusOr<logv1::EngineSnapshot> snapshot = broker::DecodeSnapshot("fuzz.snap", rest);
      if (snapshot.ok()) UseSnapshot(*snapshot);
      break;
    }
    case 3: {
      logv1::EngineSnapshot snapshot;
      if (!snapshot.ParseFromString(rest)) break;
      absl::StatusOr<logv1::EngineSnapshot> decoded =
          broker::DecodeSnapshot("fuzz.snap", broker::EncodeSnapshot(snapshot));
      ATOMIX_FUZZ_CHECK(decoded.ok(), "an encoded snapshot does not decode: %s",
                        decoded.status().ToString().c_str());
      UseSnapshot(*decoded);
      break;
    }
  }
  return 0;
}
