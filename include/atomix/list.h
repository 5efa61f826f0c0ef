// List<T>: a named, ordered list of versioned items kept by the broker.
//
//   auto jobs = atomix::GetList<std::string>("jobs");
//   if (!jobs.ok()) return jobs.status();
//   jobs->Append("resize img-17");                    // producer: at the tail
//   jobs->AppendAll({"resize img-18", "resize img-19"});
//
//   // Consumer: take the head. Any number of consumers, in any processes,
//   // may do this at once; each item goes to exactly one of them.
//   absl::StatusOr<std::optional<atomix::ListItem<std::string>>> job = jobs->PopFront();
//   if (job.ok() && job->has_value()) run((*job)->value);
//
//   auto third = jobs->Get(2);                        // StatusOr<ListItem<T>>
//   if (third.ok()) jobs->Set(2, "urgent", atomix::IfVersion(third->version));
//   for (const auto& item : jobs->Items()) {          // page by page
//     if (!item.ok()) { /* item.status(); the range ends here */ break; }
//     use(item->index, item->value, item->version);
//   }
//
// Semantics. Items are addressed by position: 0 is the head and Size() - 1
// the tail; an Insert or Remove shifts the items after it. Every write is
// applied atomically by the broker at one new revision, which becomes the
// version of each item it writes (AppendAll: all of them). Values travel as
// bytes through the codec C (see atomix/codec.h).
//
// Work queues. PopFront and PopBack remove and return an end item in one
// broker step: two consumers never get the same item, and an item is never
// lost between them. An empty list is not an error (nullopt). With a
// session (the default) a pop whose answer was lost is retried and answered
// with the first answer, so a retry does not take a second item; without
// one, a pop in flight when the connection breaks fails with UNAVAILABLE
// and may or may not have taken its item. A popped item is gone: a consumer
// that crashes after PopFront loses it (there is no acknowledgement).
//
// Costs on the broker (the list is a std::deque): Get, Set, Size, PopFront,
// PopBack and Append are O(1) per item; Insert and Remove at index i move
// min(i, size - i) items, so the middle of a million-item list costs a
// million moves; Clear is O(size). AppendAll takes at most 10,000 values (the
// broker's page size limit) at once.
//
// Listing. Slice(start, stop) reads up to one page of [start, stop) at one
// revision (ListPage::more says items before stop were left out: at most
// page_size items, default 1000, and about 1 MiB). Items() and Range() walk
// page by page: each page is one linearizable read, and the next page starts
// at the index after the last item received. Positions move when others
// insert or remove before the cursor, so a listing during such writes may
// skip or repeat an item (one that shrinks the list below the cursor ends
// it); for an exact view use Slice, or Watch(WithReplay()).
//
// Watching (atomix/watch.h): Watch() follows the whole list as a
// Channel<ListEvent<T>> whose events carry the index; applied in order to a
// copy of the list they reproduce it. Lists take no watch filters.
//
// Errors: INVALID_ARGUMENT for a bad name, a negative index, a value over
// the broker's size limit, an AppendAll with no value or over 10,000, a
// WriteOptions the op does not take (only Set and Remove take IfVersion), or
// stored bytes C cannot decode (the message names the type, the list and
// the index); OUT_OF_RANGE for an index past the list ("list "jobs" index 7
// is out of range; the size is 3"): Get, Set and Remove take 0..size-1,
// Insert and Slice's start 0..size; FAILED_PRECONDITION for a name bound to
// another primitive type or an IfVersion mismatch (CurrentVersion(status)
// holds the item's current version); plus UNAVAILABLE, DEADLINE_EXCEEDED,
// CANCELLED.
//
// Each operation Op has a non-blocking form OpAsync with the same arguments,
// returning a Future of Op's result (atomix/future.h); Op waits for it.
//
// Thread-safety: List is a cheap, copyable, immutable handle (client +
// name); all methods are safe to call from any thread at the same time. A
// StreamRange returned by Items() or Range() belongs to one thread.
#ifndef ATOMIX_LIST_H_
#define ATOMIX_LIST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/codec.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/internal/entry_watch.h"
#include "atomix/internal/list_core.h"
#include "atomix/internal/primitive.h"
#include "atomix/internal/watch_core.h"
#include "atomix/options.h"
#include "atomix/status.h"
#include "atomix/stream_range.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// One item: its position, its value and the revision of its last write.
template <class T>
struct ListItem {
  int64_t index = 0;
  T value{};
  Version version = 0;

  friend bool operator==(const ListItem&, const ListItem&) = default;
};

// What a write did: the revision at which it was applied (the version of
// every item it wrote), the index of the (first) item it wrote, and the
// list's size after it.
struct ATOMIX_EXPORT ListWrite {
  Version version = 0;
  int64_t index = 0;
  int64_t size = 0;

  friend bool operator==(const ListWrite&, const ListWrite&) = default;
};

// One Slice: its items, in order, and whether items before its stop were
// left out (the page was full).
template <class T>
struct ListPage {
  std::vector<ListItem<T>> items;
  bool more = false;
};

// One event of a list watch (atomix/watch.h). Applying a revision's events
// in order to a copy of the list gives the list after that revision.
//   kInserted: `item` was inserted at item->index (Append, AppendAll,
//              Insert; also each item of a WithReplay() snapshot, in order,
//              with revision = the snapshot's revision).
//   kUpdated:  `item` replaced `previous` at the same index (Set).
//   kRemoved:  `previous` was removed from previous->index (Remove, a Pop,
//              or Clear, which removes from the tail to the head).
//   kResync:   `snapshot` holds the whole list at `revision`.
template <class T>
struct ListEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  std::optional<ListItem<T>> item;
  std::optional<ListItem<T>> previous;
  std::vector<ListItem<T>> snapshot;
  ResyncReason reason = ResyncReason::kNone;
};

namespace internal {

// Decodes one raw item with codec C; a failure names the list and index.
template <class T, class C>
absl::StatusOr<ListItem<T>> DecodeListItem(RawEntry& raw, std::string_view name) {
  absl::StatusOr<T> v = C::Decode(raw.value);
  if (!v.ok()) {
    const std::string index = std::to_string(raw.index);
    return DecodeFailure(v.status(), C::TypeName(), kListKind, name, &index);
  }
  return ListItem<T>{raw.index, *std::move(v), raw.version};
}

// Decodes raw list watch items with codec C.
template <class T, class C>
struct ListWatchDecoder {
  std::string name;

  absl::Status Events(std::vector<RawWatchEvent>& raw, std::vector<ListEvent<T>>& out) const {
    return DecodeEntryEvents(
        raw, &ListEvent<T>::item, [this](RawEntry& r) { return DecodeListItem<T, C>(r, name); },
        out);
  }

  absl::Status Snapshot(RawSnapshot& raw, std::vector<ListEvent<T>>& out) const {
    return DecodeEntrySnapshot(
        raw, &ListEvent<T>::item, [this](RawEntry& r) { return DecodeListItem<T, C>(r, name); },
        out);
  }
};

inline Future<ListWrite> ToListWrite(Future<RawListWrite> raw) {
  return MapFuture<ListWrite>(std::move(raw),
                              [](absl::StatusOr<RawListWrite> r) -> absl::StatusOr<ListWrite> {
                                if (!r.ok()) return r.status();
                                return ListWrite{r->version, r->index, r->size};
                              });
}

}  // namespace internal

template <class T, class C = Codec<T>>
class List {
 public:
  using Item = ListItem<T>;

  // Wraps an opened bytes core; use GetList<T>() instead.
  explicit List(internal::ListCore core) : core_(std::move(core)) {}

  const std::string& name() const { return core_.name(); }

  // Appends `value` at the tail.
  absl::StatusOr<ListWrite> Append(const T& value, const CallOptions& options = {}) const {
    return AppendAsync(value, options).get();
  }

  // Appends `values` at the tail, in order, at one revision (at least one,
  // at most 10,000); ListWrite::index is the first one's.
  absl::StatusOr<ListWrite> AppendAll(const std::vector<T>& values,
                                      const CallOptions& options = {}) const {
    return AppendAllAsync(values, options).get();
  }

  // Inserts `value` before `index` (0..Size(); Size() appends).
  absl::StatusOr<ListWrite> Insert(int64_t index, const T& value,
                                   const CallOptions& options = {}) const {
    return InsertAsync(index, value, options).get();
  }

  // Replaces the item at `index`. With IfVersion(v): only if its version is
  // v (FAILED_PRECONDITION otherwise).
  absl::StatusOr<ListWrite> Set(int64_t index, const T& value,
                                const WriteOptions& options = {}) const {
    return SetAsync(index, value, options).get();
  }

  // Removes the item at `index` and returns it; later items move up. With
  // IfVersion(v): only if its version is v.
  absl::StatusOr<Item> Remove(int64_t index, const WriteOptions& options = {}) const {
    return RemoveAsync(index, options).get();
  }

  // The item at `index`.
  absl::StatusOr<Item> Get(int64_t index, const CallOptions& options = {}) const {
    return GetAsync(index, options).get();
  }

  // The number of items.
  absl::StatusOr<int64_t> Size(const CallOptions& options = {}) const {
    return SizeAsync(options).get();
  }

  // Removes and returns the head (PopFront) or the tail (PopBack) in one
  // step; nullopt if the list is empty. Two callers never get the same item.
  absl::StatusOr<std::optional<Item>> PopFront(const CallOptions& options = {}) const {
    return PopFrontAsync(options).get();
  }
  absl::StatusOr<std::optional<Item>> PopBack(const CallOptions& options = {}) const {
    return PopBackAsync(options).get();
  }

  // Removes every item at one revision, which it returns; 0 (and no
  // revision taken) if the list was already empty.
  absl::StatusOr<Version> Clear(const CallOptions& options = {}) const {
    return ClearAsync(options).get();
  }

  // The items [start, stop) (stop nullopt: to the end; a stop past the end
  // reads to the end) as read at one revision, at most one page of them
  // (options.page_size, default 1000, and about 1 MiB); `more` says items
  // before stop were left out. OUT_OF_RANGE for a start past the end.
  absl::StatusOr<ListPage<T>> Slice(int64_t start, std::optional<int64_t> stop = std::nullopt,
                                    const ListOptions& options = {}) const {
    return SliceAsync(start, stop, options).get();
  }

  // The same, without waiting (atomix/future.h).
  Future<ListWrite> AppendAsync(const T& value, const CallOptions& options = {}) const {
    std::vector<std::string> values;
    values.push_back(C::Encode(value));
    return internal::ToListWrite(core_.AppendAsync(std::move(values), options));
  }
  Future<ListWrite> AppendAllAsync(const std::vector<T>& values,
                                   const CallOptions& options = {}) const {
    std::vector<std::string> encoded;
    encoded.reserve(values.size());
    for (const T& v : values) encoded.push_back(C::Encode(v));
    return internal::ToListWrite(core_.AppendAsync(std::move(encoded), options));
  }
  Future<ListWrite> InsertAsync(int64_t index, const T& value,
                                const CallOptions& options = {}) const {
    return internal::ToListWrite(core_.InsertAsync(index, C::Encode(value), options));
  }
  Future<ListWrite> SetAsync(int64_t index, const T& value,
                             const WriteOptions& options = {}) const {
    return internal::ToListWrite(core_.SetAsync(index, C::Encode(value), options));
  }
  Future<Item> RemoveAsync(int64_t index, const WriteOptions& options = {}) const {
    return Decoded(core_.RemoveAsync(index, options));
  }
  Future<Item> GetAsync(int64_t index, const CallOptions& options = {}) const {
    return Decoded(core_.GetAsync(index, options));
  }
  Future<int64_t> SizeAsync(const CallOptions& options = {}) const {
    return core_.SizeAsync(options);
  }
  Future<std::optional<Item>> PopFrontAsync(const CallOptions& options = {}) const {
    return DecodedPop(core_.PopAsync(/*tail=*/false, options));
  }
  Future<std::optional<Item>> PopBackAsync(const CallOptions& options = {}) const {
    return DecodedPop(core_.PopAsync(/*tail=*/true, options));
  }
  Future<Version> ClearAsync(const CallOptions& options = {}) const {
    return core_.ClearAsync(options);
  }
  Future<ListPage<T>> SliceAsync(int64_t start, std::optional<int64_t> stop = std::nullopt,
                                 const ListOptions& options = {}) const {
    return internal::MapFuture<ListPage<T>>(
        core_.SliceAsync(start, stop, options),
        [name = core_.name()](
            absl::StatusOr<internal::RawListPage> raw) -> absl::StatusOr<ListPage<T>> {
          if (!raw.ok()) return raw.status();
          ListPage<T> page;
          page.more = raw->more;
          page.items.reserve(raw->items.size());
          for (internal::RawEntry& r : raw->items) {
            auto item = internal::DecodeListItem<T, C>(r, name);
            if (!item.ok()) return item.status();
            page.items.push_back(*std::move(item));
          }
          return page;
        });
  }

  // Every item in order, page by page (options.page_size items per round
  // trip). The range ends with a non-OK status on the first failed page or
  // undecodable item. See the header comment for writes during a listing.
  StreamRange<Item> Items(const ListOptions& options = {}) const {
    return Range(0, std::nullopt, options);
  }

  // The items [start, stop) in order, page by page (stop nullopt: to the
  // end). OUT_OF_RANGE (as the range's only item) for a start past the end.
  StreamRange<Item> Range(int64_t start, std::optional<int64_t> stop = std::nullopt,
                          const ListOptions& options = {}) const {
    std::string name = core_.name();
    return internal::TranscodeRange<Item>(
        internal::ListCursor(core_, start, stop, options),
        [name](internal::RawEntry& raw) { return internal::DecodeListItem<T, C>(raw, name); });
  }

  // Watches the list (atomix/watch.h); returns once the broker accepted the
  // watch. WatchOptions::prefix is refused (INVALID_ARGUMENT): lists take no
  // filters.
  absl::StatusOr<Channel<ListEvent<T>>> Watch(const WatchOptions& options = {}) const {
    internal::WatchTarget target;
    target.kind = internal::kListKind;
    target.name = core_.name();
    target.prefix = options.prefix;
    return internal::OpenWatch<ListEvent<T>>(core_.client(), std::move(target), options,
                                             internal::ListWatchDecoder<T, C>{core_.name()});
  }

 private:
  Future<Item> Decoded(Future<internal::RawEntry> raw) const {
    return internal::MapFuture<Item>(
        std::move(raw),
        [name = core_.name()](absl::StatusOr<internal::RawEntry> r) -> absl::StatusOr<Item> {
          if (!r.ok()) return r.status();
          return internal::DecodeListItem<T, C>(*r, name);
        });
  }
  Future<std::optional<Item>> DecodedPop(Future<std::optional<internal::RawEntry>> raw) const {
    return internal::MapFuture<std::optional<Item>>(
        std::move(raw),
        [name = core_.name()](absl::StatusOr<std::optional<internal::RawEntry>> r)
            -> absl::StatusOr<std::optional<Item>> {
          if (!r.ok()) return r.status();
          if (!r->has_value()) return std::optional<Item>();
          auto item = internal::DecodeListItem<T, C>(**r, name);
          if (!item.ok()) return item.status();
          return std::optional<Item>(*std::move(item));
        });
  }

  internal::ListCore core_;
};

namespace internal {
// Opens a list over a client core. Not part of the public API.
template <class T, class C = Codec<T>>
absl::StatusOr<List<T, C>> GetList(std::shared_ptr<ClientCore> core, std::string_view name,
                                   const CallOptions& options = {}) {
  auto opened = ListCore::Open(std::move(core), name, options);
  if (!opened.ok()) return opened.status();
  return List<T, C>(*std::move(opened));
}
}  // namespace internal

// Opens the list `name` through `client`, creating it (empty) if it does not
// exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
template <class T, class C = Codec<T>>
absl::StatusOr<List<T, C>> GetList(const Client& client, std::string_view name,
                                   const CallOptions& options = {}) {
  return internal::GetList<T, C>(internal_core(client), name, options);
}

// The same through DefaultClient().
template <class T, class C = Codec<T>>
absl::StatusOr<List<T, C>> GetList(std::string_view name, const CallOptions& options = {}) {
  return GetList<T, C>(DefaultClient(), name, options);
}

}  // namespace atomix

#endif  // ATOMIX_LIST_H_
