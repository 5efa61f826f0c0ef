#include "sdk/src/watch_wire.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace atomix::internal {
namespace {

RawEntry EntryFromWire(v1::MapEntry& e) {
  return RawEntry{std::move(*e.mutable_key()), std::move(*e.mutable_value()), e.version(),
                  e.index()};
}

// The serialized message of the set field of `message`'s oneof "detail",
// or nullopt if none is set. The SDK core does not know the primitives'
// messages; the primitive that opened the watch parses the bytes.
std::optional<std::string> DetailOf(const google::protobuf::Message& message) {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::OneofDescriptor* detail = descriptor->FindOneofByName("detail");
  if (detail == nullptr) return std::nullopt;
  const google::protobuf::Reflection* reflection = message.GetReflection();
  const google::protobuf::FieldDescriptor* field =
      reflection->GetOneofFieldDescriptor(message, detail);
  if (field == nullptr) return std::nullopt;
  return reflection->GetMessage(message, field).SerializeAsString();
}

}  // namespace

absl::StatusOr<RawWatchEvent> EventFromWire(v1::WatchEvent& event) {
  RawWatchEvent raw;
  switch (event.type()) {
    case v1::WatchEvent::INSERTED:
      raw.type = EventType::kInserted;
      break;
    case v1::WatchEvent::UPDATED:
      raw.type = EventType::kUpdated;
      break;
    case v1::WatchEvent::REMOVED:
      raw.type = EventType::kRemoved;
      break;
    case v1::WatchEvent::EXPIRED:
      raw.type = EventType::kExpired;
      break;
    default:
      return absl::InternalError(absl::StrCat("broker sent a watch event of unknown type ",
                                              static_cast<int>(event.type()), " at revision ",
                                              event.revision()));
  }
  raw.revision = event.revision();
  if (event.has_entry()) raw.entry = EntryFromWire(*event.mutable_entry());
  if (event.has_previous()) raw.previous = EntryFromWire(*event.mutable_previous());
  raw.detail = DetailOf(event);
  return raw;
}

absl::StatusOr<bool> AddSnapshotPart(v1::WatchSnapshot& part, std::optional<RawSnapshot>& partial) {
  bool replay = false;
  ResyncReason reason = ResyncReason::kNone;
  switch (part.reason()) {
    case v1::WatchSnapshot::REPLAY:
      replay = true;
      break;
    case v1::WatchSnapshot::COMPACTED:
      reason = ResyncReason::kCompacted;
      break;
    case v1::WatchSnapshot::NEW_BROKER:
      reason = ResyncReason::kNewBroker;
      break;
    default:
      return absl::InternalError(absl::StrCat("broker sent a watch snapshot at revision ",
                                              part.revision(), " with unknown reason ",
                                              static_cast<int>(part.reason())));
  }
  if (!partial.has_value()) {
    partial.emplace();
    partial->replay = replay;
    partial->reason = reason;
    partial->revision = part.revision();
  } else if (partial->replay != replay || partial->reason != reason ||
             partial->revision != part.revision()) {
    return absl::InternalError(absl::StrCat("broker sent a watch snapshot part at revision ",
                                            part.revision(), " inside the snapshot at revision ",
                                            partial->revision));
  }
  for (v1::MapEntry& e : *part.mutable_entries()) partial->entries.push_back(EntryFromWire(e));
  // The detail travels whole in the first part.
  if (std::optional<std::string> detail = DetailOf(part)) partial->detail = std::move(detail);
  return !part.more();
}

bool EndsWatch(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

}  // namespace atomix::internal
