// fuzz_sdk_decode: the SDK's decoding of what a broker sends, with no
// network: responses to statuses (sdk/src/status_convert.h), watch messages
// to raw events and snapshots (sdk/src/watch_wire.h) in the order checks the
// watch stream makes, raw items to typed events of Map, Set, Value and
// List (the primitives' WatchDecoders over the built-in codecs), and
// the codecs themselves (atomix/codec.h).
//
// Input: the first byte is a seed for nothing but picking codecs; the rest
// is a sequence of messages, each as FuzzedDataProvider's
// ConsumeRandomLengthString reads it (a backslash escapes a backslash; a
// backslash before another byte ends the message). The first message is
// also read as a ResponseBatch and as a Response; every message is read as
// a WatchResponse of one watch stream.
//
// Invariants checked beyond "no crash, no sanitizer report":
// - an error response never becomes OK, and its current version survives;
// - events decode iff their type is known; a snapshot is delivered only
//   when its last part arrives, at the revision of its first;
// - typed decoders yield one event per raw event (or a snapshot's items)
//   when they succeed;
// - integer and bool codecs round-trip every value they accept.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "atomix/codec.h"
#include "atomix/list.h"
#include "atomix/map.h"
#include "atomix/set.h"
#include "atomix/status.h"
#include "atomix/v1/broker.pb.h"
#include "atomix/v1/watch.pb.h"
#include "atomix/value.h"
#include "fuzz/fuzz_check.h"
#include "google/protobuf/stubs/logging.h"
#include "sdk/src/status_convert.h"
#include "sdk/src/watch_wire.h"

namespace {

namespace v1 = atomix::v1;
namespace in = atomix::internal;

void CheckResponse(const v1::Response& response) {
  absl::StatusOr<v1::Response> status = in::FromResponse(response);
  if (!response.has_error()) {
    ATOMIX_FUZZ_CHECK(status.ok(), "a response without error became %s",
                 status.status().ToString().c_str());
    return;
  }
  ATOMIX_FUZZ_CHECK(!status.ok(), "error code %d became OK", response.error().code());
  if (response.error().has_current()) {
    const std::optional<int64_t> current = atomix::CurrentVersion(status.status());
    ATOMIX_FUZZ_CHECK(current.has_value() && *current == response.error().current(),
                 "current %lld was lost", static_cast<long long>(response.error().current()));
  }
}

template <class T>
void RoundTrip(const std::string& bytes) {
  absl::StatusOr<T> v = atomix::Codec<T>::Decode(bytes);
  if (!v.ok()) return;
  ATOMIX_FUZZ_CHECK(atomix::Codec<T>::Encode(*v) == bytes, "%s does not round-trip",
               atomix::Codec<T>::TypeName().c_str());
}

void Codecs(const std::string& bytes) {
  RoundTrip<int8_t>(bytes);
  RoundTrip<uint16_t>(bytes);
  RoundTrip<int32_t>(bytes);
  RoundTrip<int64_t>(bytes);
  RoundTrip<uint64_t>(bytes);
  RoundTrip<bool>(bytes);
  (void)atomix::Codec<v1::MapEntry>::Decode(bytes);
}

// The typed decoders over one message's raw events, or a snapshot.
template <class Decoder, class Event>
void Typed(const Decoder& decoder, const std::vector<in::RawWatchEvent>& events,
           const std::optional<in::RawSnapshot>& snapshot) {
  if (!events.empty()) {
    std::vector<in::RawWatchEvent> raw = events;
    std::vector<Event> out;
    if (decoder.Events(raw, out).ok()) {
      ATOMIX_FUZZ_CHECK(out.size() == events.size(), "%zu raw events became %zu", events.size(),
                   out.size());
    }
  }
  if (snapshot.has_value()) {
    in::RawSnapshot raw = *snapshot;
    std::vector<Event> out;
    (void)decoder.Snapshot(raw, out);
  }
}

void AllTyped(uint8_t pick, const std::vector<in::RawWatchEvent>& events,
              const std::optional<in::RawSnapshot>& snapshot) {
  switch (pick % 3) {
    case 0:
      Typed<in::MapWatchDecoder<std::string, int64_t, atomix::Codec<std::string>,
                                atomix::Codec<int64_t>>,
            atomix::MapEvent<std::string, int64_t>>({"m"}, events, snapshot);
      Typed<in::SetWatchDecoder<int32_t, atomix::Codec<int32_t>>, atomix::SetEvent<int32_t>>(
          {"s"}, events, snapshot);
      break;
    case 1:
      Typed<in::MapWatchDecoder<uint16_t, v1::MapEntry, atomix::Codec<uint16_t>,
                                atomix::Codec<v1::MapEntry>>,
            atomix::MapEvent<uint16_t, v1::MapEntry>>({"m"}, events, snapshot);
      Typed<in::ValueWatchDecoder<bool, atomix::Codec<bool>>, atomix::ValueEvent<bool>>(
          {"v"}, events, snapshot);
      break;
    default:
      Typed<in::ListWatchDecoder<std::string, atomix::Codec<std::string>>,
            atomix::ListEvent<std::string>>({"l"}, events, snapshot);
      Typed<in::ValueWatchDecoder<std::string, atomix::Codec<std::string>>,
            atomix::ValueEvent<std::string>>({"v"}, events, snapshot);
      break;
  }
}

// One watch stream's messages, as WatchStream::OnRead checks them.
class WatchSequence {
 public:
  explicit WatchSequence(uint8_t pick) : pick_(pick) {}

  // False once the stream would stop.
  bool Read(v1::WatchResponse& message) {
    if (message.has_header()) {
      if (header_) return false;
      header_ = true;
      next_ = message.header().revision() + 1;
    } else if (!header_) {
      return false;
    }
    std::optional<in::RawSnapshot> snapshot;
    if (message.has_snapshot()) {
      const int64_t revision = partial_.has_value() ? partial_->revision
                                                     : message.snapshot().revision();
      const bool more = message.snapshot().more();
      absl::StatusOr<bool> complete = in::AddSnapshotPart(*message.mutable_snapshot(), partial_);
      if (!complete.ok()) return false;
      ATOMIX_FUZZ_CHECK(*complete == !more, "complete is %d with more %d", *complete, more);
      if (*complete) {
        snapshot = std::move(partial_);
        partial_.reset();
        ATOMIX_FUZZ_CHECK(snapshot->revision == revision, "snapshot at %lld, its first part at %lld",
                     static_cast<long long>(snapshot->revision),
                     static_cast<long long>(revision));
        next_ = snapshot->revision + 1;
      }
    }
    std::vector<in::RawWatchEvent> events;
    if (message.events_size() > 0) {
      if (partial_.has_value()) return false;
      int64_t last = 0;
      for (v1::WatchEvent& wire : *message.mutable_events()) {
        if (wire.revision() < last) return false;
        last = wire.revision();
        if (wire.revision() < next_) continue;
        const bool known = wire.type() >= v1::WatchEvent::INSERTED &&
                           wire.type() <= v1::WatchEvent::EXPIRED;
        absl::StatusOr<in::RawWatchEvent> event = in::EventFromWire(wire);
        ATOMIX_FUZZ_CHECK(event.ok() == known, "event type %d decoded: %d",
                     static_cast<int>(wire.type()), event.ok());
        if (!event.ok()) return false;
        events.push_back(*std::move(event));
      }
      if (!events.empty()) next_ = events.back().revision + 1;
    }
    AllTyped(pick_, events, snapshot);
    return true;
  }

 private:
  const uint8_t pick_;
  bool header_ = false;
  int64_t next_ = 0;
  std::optional<in::RawSnapshot> partial_;
};

}  // namespace

// Unparsable input (invalid UTF-8 in string fields) is expected here; its
// log would be slow to print for every input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t pick = data[0];
  FuzzedDataProvider provider(data + 1, size - 1);
  WatchSequence watch(pick);
  bool watching = true;
  for (int i = 0; i < 16 && provider.remaining_bytes() > 0; ++i) {
    const std::string bytes = provider.ConsumeRandomLengthString(size);
    if (i == 0) {
      v1::ResponseBatch batch;
      if (batch.ParseFromString(bytes)) {
        for (const v1::Response& r : batch.responses()) CheckResponse(r);
      }
      v1::Response response;
      if (response.ParseFromString(bytes)) CheckResponse(response);
    }
    Codecs(bytes);
    v1::WatchResponse message;
    if (watching && message.ParseFromString(bytes)) watching = watch.Read(message);
  }
  return 0;
}
