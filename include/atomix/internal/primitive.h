// Internal: pieces shared by the typed primitive proxies. Not part of the
// public API; may change without notice.
//
// The typed templates (Value<T>, Map<K,V>, Set<E>) are thin transcoding layers
// over non-template bytes cores (value_core.h, map_core.h, set_core.h). This
// header holds what they share: opening a primitive, decoding with a useful
// error, and turning a page cursor into a typed StreamRange.
//
// Thread-safety: free functions over values; TranscodeRange's result belongs
// to one thread, like any StreamRange.
#ifndef ATOMIX_INTERNAL_PRIMITIVE_H_
#define ATOMIX_INTERNAL_PRIMITIVE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/export.h"
#include "atomix/stream_range.h"

namespace atomix::internal {

class ClientCore;

// A primitive type as the SDK core sees it: its atomix.v1.PrimitiveType
// number and its names. Each primitive defines its own constant beside its
// proxy (kMapKind in map_core.h, kCounterKind in counter.cc, ...), so the
// SDK core never lists primitives.
struct ATOMIX_EXPORT PrimitiveKind {
  // The atomix.v1.PrimitiveType value.
  int wire_type = 0;
  // "counter", "map", ...: how messages name the primitive.
  std::string_view name;
  // How messages name one item's bytes: "key", "element", "index".
  std::string_view item = "key";
};

// Sends an OpenRequest: creates the primitive `name` as `kind`, or checks that
// the existing one has that type. The broker's status comes back unchanged:
// INVALID_ARGUMENT for a bad name, FAILED_PRECONDITION for a name bound to
// another type, UNAVAILABLE / DEADLINE_EXCEEDED from the transport.
// INVALID_ARGUMENT without a round trip if `core` is null.
ATOMIX_EXPORT absl::Status OpenPrimitive(const std::shared_ptr<ClientCore>& core,
                                         const PrimitiveKind& kind, std::string_view name,
                                         const CallOptions& options);

// Builds the status of a failed decode: always INVALID_ARGUMENT, the message
// starting "cannot decode <type_name>: " (kept as is if the codec's message
// already starts with "cannot decode "), followed by the primitive and, when
// `key` is not null, the (escaped, possibly shortened) key bytes:
//   cannot decode int64: expected 8 bytes, got 3 (map "scores", key "alice")
ATOMIX_EXPORT absl::Status DecodeFailure(const absl::Status& codec_status,
                                         std::string_view type_name, const PrimitiveKind& kind,
                                         std::string_view name, const std::string* key);

// INTERNAL: the broker sent a watch event or snapshot of `kind` at
// `revision` whose detail is missing (a protocol 1.0 broker) or does not
// parse.
ATOMIX_EXPORT absl::Status BadWatchDetail(const PrimitiveKind& kind, int64_t revision);

// INTERNAL for a listing page of `kind` `name` that cannot be right: its
// first item does not follow the last item of the page before
// ("broker listed map \"m\" out of order"), or it is empty while more
// pages follow.
ATOMIX_EXPORT absl::Status ListedOutOfOrder(const PrimitiveKind& kind, std::string_view name);
ATOMIX_EXPORT absl::Status EmptyPageWithMore(const PrimitiveKind& kind, std::string_view name);

// Decodes `bytes` with codec C, annotating a failure with DecodeFailure.
template <class T, class C>
absl::StatusOr<T> DecodeWith(std::string_view bytes, const PrimitiveKind& kind, std::string_view name,
                             const std::string* key = nullptr) {
  absl::StatusOr<T> v = C::Decode(bytes);
  if (!v.ok()) return DecodeFailure(v.status(), C::TypeName(), kind, name, key);
  return v;
}

// Adapts a bytes-level page cursor (anything with
// `absl::StatusOr<std::vector<Raw>> Next()` and `bool done() const`) into a
// typed StreamRange. `decode` maps one Raw to absl::StatusOr<T>. When an item
// fails to decode, the items before it in the page are still delivered and the
// range then ends with the decode error.
template <class T, class Cursor, class Decode>
StreamRange<T> TranscodeRange(Cursor cursor, Decode decode) {
  struct State {
    Cursor cursor;
    absl::Status deferred;
  };
  auto state = std::make_shared<State>(State{std::move(cursor), absl::OkStatus()});
  return StreamRange<T>(
      [state, decode = std::move(decode)](std::vector<T>& page, bool& more) -> absl::Status {
        if (!state->deferred.ok()) return state->deferred;
        auto raw = state->cursor.Next();
        if (!raw.ok()) return raw.status();
        page.reserve(raw->size());
        for (auto& item : *raw) {
          absl::StatusOr<T> typed = decode(item);
          if (!typed.ok()) {
            state->deferred = typed.status();
            more = true;  // deliver this page, then the error
            return absl::OkStatus();
          }
          page.push_back(*std::move(typed));
        }
        more = !state->cursor.done();
        return absl::OkStatus();
      });
}

}  // namespace atomix::internal

#endif  // ATOMIX_INTERNAL_PRIMITIVE_H_
