// Watch() of the primitives whose events need no codec: Counter, Lock and
// Election.
#include <optional>
#include <utility>
#include <vector>

#include "atomix/counter.h"
#include "atomix/election.h"
#include "atomix/internal/watch_core.h"
#include "atomix/lock.h"

namespace atomix {
namespace {

using internal::PrimitiveKind;
using internal::RawSnapshot;
using internal::RawWatchEvent;

internal::WatchTarget Target(PrimitiveKind kind, const std::string& name) {
  internal::WatchTarget target;
  target.kind = kind;
  target.name = name;
  return target;
}

struct CounterDecoder {
  absl::Status Events(std::vector<RawWatchEvent>& raw, std::vector<CounterEvent>& out) const {
    for (const RawWatchEvent& r : raw) {
      out.push_back(
          CounterEvent{r.type, r.revision, r.value, r.previous_value, ResyncReason::kNone});
    }
    return absl::OkStatus();
  }
  absl::Status Snapshot(RawSnapshot& raw, std::vector<CounterEvent>& out) const {
    out.push_back(CounterEvent{raw.replay ? EventType::kInserted : EventType::kResync, raw.revision,
                               raw.value, 0, raw.reason});
    return absl::OkStatus();
  }
};

struct LockDecoder {
  absl::Status Events(std::vector<RawWatchEvent>& raw, std::vector<LockEvent>& out) const {
    for (const RawWatchEvent& r : raw) {
      out.push_back(
          LockEvent{r.type, r.revision, r.lock.fence, r.lock.session_id, ResyncReason::kNone});
    }
    return absl::OkStatus();
  }
  absl::Status Snapshot(RawSnapshot& raw, std::vector<LockEvent>& out) const {
    out.push_back(LockEvent{raw.replay ? EventType::kInserted : EventType::kResync, raw.revision,
                            raw.lock.fence, raw.lock.session_id, raw.reason});
    return absl::OkStatus();
  }
};

Term ToTerm(internal::RawTerm& raw) {
  return Term{std::move(raw.leader), raw.term, std::move(raw.candidates)};
}

// Remembers the last Term delivered, so that a resync repeats nothing.
struct ElectionDecoder {
  std::optional<Term> last;

  absl::Status Events(std::vector<RawWatchEvent>& raw, std::vector<Term>& out) {
    for (RawWatchEvent& r : raw) {
      last = ToTerm(r.term);
      out.push_back(*last);
    }
    return absl::OkStatus();
  }
  absl::Status Snapshot(RawSnapshot& raw, std::vector<Term>& out) {
    Term term = ToTerm(raw.term);
    if (!raw.replay && last.has_value() && *last == term) return absl::OkStatus();
    last = term;
    out.push_back(std::move(term));
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<Channel<CounterEvent>> Counter::Watch(const WatchOptions& options) const {
  return internal::OpenWatch<CounterEvent>(core_, Target(PrimitiveKind::kCounter, name_), options,
                                           CounterDecoder{});
}

absl::StatusOr<Channel<LockEvent>> Lock::Watch(const WatchOptions& options) const {
  return internal::OpenWatch<LockEvent>(core_, Target(PrimitiveKind::kLock, name_), options,
                                        LockDecoder{});
}

absl::StatusOr<Channel<Term>> Election::Watch(const WatchOptions& options) const {
  return internal::OpenWatch<Term>(core_, Target(PrimitiveKind::kElection, name_), options,
                                   ElectionDecoder{});
}

}  // namespace atomix
