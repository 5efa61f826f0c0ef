// In-memory Store.
#include "broker-sim/src/store/memory_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/errors.h"

namespace atomix::broker {

MemoryStore::MemoryStore(Limits limits, Clock clock)
    : limits_(limits), clock_(std::move(clock)) {}

void MemoryStore::Apply(absl::Span<const v1::Request* const> requests,
                        absl::Span<v1::Response* const> responses) {
  const size_t n = std::min(requests.size(), responses.size());
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  for (size_t i = 0; i < n; ++i) {
    ApplyOne(*requests[i], now, *responses[i]);
  }
}

void MemoryStore::ApplyOne(const v1::Request& request, absl::Time now,
                           v1::Response& response) {
  response.set_id(request.id());
  const ApplyContext ctx{
      .revision = revision_ + 1, .now = now, .limits = limits_};
  ApplyResult result;
  auto it = primitives_.find(request.name());
  if (it != primitives_.end()) {
    StateMachine& machine = *it->second;
    if (machine.type() != request.type()) {
      SetError(response, absl::StatusCode::kFailedPrecondition,
               absl::StrCat(QuoteName(request.name()), " is a ",
                            TypeName(machine.type()), ", not a ",
                            TypeName(request.type())));
    } else if (request.has_open()) {
      response.mutable_open()->set_created(false);
    } else {
      result = machine.Apply(request, ctx, response);
    }
  } else {
    std::unique_ptr<StateMachine> machine = NewStateMachine(request.type());
    if (machine == nullptr) {
      SetError(response, absl::StatusCode::kInvalidArgument,
               absl::StrCat("type ", static_cast<int>(request.type()),
                            " is not a primitive type"));
    } else if (request.has_open()) {
      response.mutable_open()->set_created(true);
      primitives_.emplace(request.name(), std::move(machine));
    } else {
      // Unknown names read as empty; only a mutation binds the name.
      result = machine->Apply(request, ctx, response);
      if (result.mutated) primitives_.emplace(request.name(), std::move(machine));
    }
  }
  if (result.mutated) revision_ = ctx.revision;
  response.set_revision(revision_);
}

int64_t MemoryStore::revision() const {
  absl::MutexLock lock(&mu_);
  return revision_;
}

size_t MemoryStore::TEST_primitive_count() const {
  absl::MutexLock lock(&mu_);
  return primitives_.size();
}

}  // namespace atomix::broker
