// fuzz_request: arbitrary bytes as a client's RequestBatch (and as a single
// Request) through the broker: request validation, then one store step on a
// memory store holding the seeded state (fuzz_support.h), then time moving
// past every TTL and timeout and every session ending.
//
// Invariants checked beyond "no crash, no sanitizer report":
// - validation answers OK or INVALID_ARGUMENT with a message;
// - one response per request, in request order, each echoing its request's
//   id, except requests that wait; each late answer names a request that
//   waited, at most once each;
// - every error has a code other than OK and a message;
// - the revision never decreases, and no response carries a revision above
//   the store's.
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/core/validate.h"
#include "fuzz/fuzz_support.h"

namespace {

using atomix::fuzz::FuzzLimits;
using atomix::fuzz::FuzzStart;
namespace v1 = atomix::v1;
namespace broker = atomix::broker;

constexpr uint64_t kOrigin = 7;

void CheckValidation(const v1::Request& request) {
  const absl::Status status = broker::ValidateRequest(request, FuzzLimits());
  ATOMIX_FUZZ_CHECK(status.ok() || (status.code() == absl::StatusCode::kInvalidArgument &&
                                    !status.message().empty()),
                    "validation returned %s", status.ToString().c_str());
}

void CheckResponse(const v1::Response& response, int64_t revision) {
  if (response.has_error() && response.error().code() != 0) {
    ATOMIX_FUZZ_CHECK(!response.error().message().empty(), "error code %d has no message",
                      response.error().code());
  }
  ATOMIX_FUZZ_CHECK(response.revision() <= revision,
                    "response revision %lld is above the store's %lld",
                    static_cast<long long>(response.revision()), static_cast<long long>(revision));
}

void Run(const v1::RequestBatch& batch) {
  for (const v1::Request& request : batch.requests()) CheckValidation(request);

  absl::Time now = FuzzStart();
  std::unique_ptr<broker::Broker> b = atomix::fuzz::MakeSeededBroker(&now);
  int64_t revision = b->store().revision();

  v1::ResponseBatch out;
  std::vector<broker::Completion> completions;
  now += absl::Milliseconds(1);
  b->Execute(batch, kOrigin, out, completions);
  const int64_t after = b->store().revision();
  ATOMIX_FUZZ_CHECK(after >= revision, "revision went from %lld to %lld",
                    static_cast<long long>(revision), static_cast<long long>(after));
  revision = after;

  // The answered requests are a subsequence of the batch, in order; the
  // others wait.
  ATOMIX_FUZZ_CHECK(out.responses_size() <= batch.requests_size(), "%d responses for %d requests",
                    out.responses_size(), batch.requests_size());
  std::map<uint64_t, int> waiting;  // request id -> requests waiting with it
  int next = 0;
  for (const v1::Request& request : batch.requests()) {
    if (next < out.responses_size() && out.responses(next).id() == request.id()) {
      CheckResponse(out.responses(next), revision);
      ++next;
    } else {
      ++waiting[request.id()];
    }
  }
  ATOMIX_FUZZ_CHECK(next == out.responses_size(),
                    "response %d (id %llu) matches no request in order", next,
                    static_cast<unsigned long long>(out.responses(next).id()));

  // Late answers: each names a request of this origin that waited, once.
  auto take = [&](std::vector<broker::Completion>& late) {
    for (const broker::Completion& c : late) {
      if (c.origin != kOrigin) continue;  // the seed's origin 0
      auto it = waiting.find(c.response.id());
      ATOMIX_FUZZ_CHECK(it != waiting.end() && it->second > 0,
                        "late answer for request %llu, which did not wait (or was answered)",
                        static_cast<unsigned long long>(c.response.id()));
      --it->second;
      CheckResponse(c.response, b->store().revision());
    }
    late.clear();
  };
  take(completions);

  // Time passes beyond every TTL and timeout, then every session ends.
  now += absl::Hours(25);
  b->Tick(now, completions);
  take(completions);
  const int64_t ticked = b->store().revision();
  ATOMIX_FUZZ_CHECK(ticked >= revision, "a tick moved the revision from %lld to %lld",
                    static_cast<long long>(revision), static_cast<long long>(ticked));
  b->ExpireAllSessions(completions);
  take(completions);
  ATOMIX_FUZZ_CHECK(b->store().revision() >= ticked, "ending sessions lowered the revision");
  b->Cancel(kOrigin);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  atomix::fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1::RequestBatch batch;
  if (batch.ParseFromArray(data, static_cast<int>(size))) Run(batch);
  // The same bytes as one request (a Broker.Call).
  v1::Request request;
  if (request.ParseFromArray(data, static_cast<int>(size))) {
    v1::RequestBatch one;
    *one.add_requests() = std::move(request);
    Run(one);
  }
  return 0;
}
