// Internal: the bytes-level Set behind atomix::Set<E>. Not part of the public
// API. Each method sends one atomix.v1.SetRequest; see atomix/set.h for the
// semantics.
//
// Thread-safety: SetCore is an immutable handle (client core + name); copies
// are cheap and every method is safe to call from any thread. A SetCursor
// belongs to one thread.
#ifndef ATOMIX_INTERNAL_SET_CORE_H_
#define ATOMIX_INTERNAL_SET_CORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/internal/primitive.h"
#include "atomix/options.h"
#include "atomix/versioned.h"

namespace atomix::internal {

class ClientCore;

// atomix.v1.SET = 4.
inline constexpr PrimitiveKind kSetKind{4, "set", "element"};

struct ATOMIX_EXPORT RawElementPage {
  std::vector<Versioned<std::string>> elements;
  // Whether elements after the page's last one follow.
  bool more = false;
};

class ATOMIX_EXPORT SetCore {
 public:
  // Opens (creating if needed) the set `name` on the broker.
  static absl::StatusOr<SetCore> Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                      const CallOptions& options);

  const std::string& name() const { return name_; }
  const std::shared_ptr<ClientCore>& client() const { return core_; }

  // Each operation of atomix::Set, as bytes, without waiting.
  Future<Change> AddAsync(std::string element, const CallOptions& options) const;
  Future<Change> RemoveAsync(std::string element, const CallOptions& options) const;
  Future<bool> ContainsAsync(std::string element, const CallOptions& options) const;
  Future<int64_t> SizeAsync(const CallOptions& options) const;
  Future<Version> ClearAsync(const CallOptions& options) const;

  // One page: elements that sort after `start_after`, at most `limit` of them
  // (0: the broker default).
  Future<RawElementPage> ListAsync(const std::string& start_after, uint32_t limit,
                                   const CallOptions& options) const;

 private:
  SetCore(std::shared_ptr<ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  std::shared_ptr<ClientCore> core_;
  std::string name_;
};

// Walks a listing page by page. The wire protocol has no prefix for sets, so
// a prefix is applied here: the listing starts just before the prefix (after
// the prefix with its last byte lowered and sixteen 0xff bytes appended), skips
// any element that still sorts before the prefix, and stops at the first
// element past it.
class ATOMIX_EXPORT SetCursor {
 public:
  SetCursor(SetCore set, ListOptions options);

  // The next page (possibly empty). INTERNAL if the broker's page does not
  // move past the previous one.
  absl::StatusOr<std::vector<Versioned<std::string>>> Next();

  bool done() const { return done_; }

 private:
  SetCore set_;
  ListOptions options_;
  std::string start_after_;
  bool done_ = false;
};

}  // namespace atomix::internal

#endif  // ATOMIX_INTERNAL_SET_CORE_H_
