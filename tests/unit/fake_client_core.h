// FakeClientCore: an in-process ClientCore that hands every request to a real
// broker core (broker::Broker over a MemoryStore) and converts Response.error
// into a status the way the SDK does (internal::FromResponse). No network.
//
//   auto core = std::make_shared<atomix::testing::FakeClientCore>();
//   auto counter = atomix::internal::GetCounter(core, "jobs");
//   EXPECT_EQ(core->calls().back().idempotent, false);
//
// Hooks: `intercept` can answer a request instead of the broker (to inject
// transport errors); `tamper` can edit a broker response before it is
// converted (to feed the client malformed answers).
//
// Thread-safety: Call() is safe from any thread; set the hooks before use.
#ifndef ATOMIX_TESTS_UNIT_FAKE_CLIENT_CORE_H_
#define ATOMIX_TESTS_UNIT_FAKE_CLIENT_CORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/client.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/store/memory_store.h"
#include "sdk/src/client_core.h"
#include "sdk/src/status_convert.h"

namespace atomix::testing {

class FakeClientCore : public internal::ClientCore {
 public:
  struct CallRecord {
    v1::Request request;
    bool idempotent = false;
  };

  explicit FakeClientCore(broker::Limits limits = {})
      : broker_(std::make_unique<broker::MemoryStore>(limits), limits) {}

  absl::StatusOr<v1::Response> Call(v1::Request request, const CallOptions& options,
                                    bool idempotent) override {
    request.set_id(next_id_.fetch_add(1) + 1);
    if (options.cancel.stop_requested()) return absl::CancelledError("call cancelled");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (record_calls_) calls_.push_back(CallRecord{request, idempotent});
    }
    if (intercept) {
      if (std::optional<absl::Status> s = intercept(request); s.has_value()) return *s;
    }
    v1::Response response = broker_.Execute(request);
    if (tamper) tamper(request, response);
    return internal::FromResponse(std::move(response));
  }

  const ClientOptions& options() const override { return options_; }
  absl::Status WaitConnected(std::chrono::steady_clock::time_point) override {
    return absl::OkStatus();
  }
  std::string connected_endpoint() const override { return "in-process"; }
  std::string broker_id() const override { return broker_.id(); }

  broker::Broker& broker() { return broker_; }
  int64_t revision() { return broker_.store().revision(); }

  std::vector<CallRecord> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  void clear_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.clear();
  }
  // Stop keeping a record of calls (for bulk loads).
  void set_record_calls(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    record_calls_ = on;
  }

  // If set and it returns a status, Call returns that status instead of
  // asking the broker.
  std::function<std::optional<absl::Status>(const v1::Request&)> intercept;
  // If set, may edit the broker's response before it is converted.
  std::function<void(const v1::Request&, v1::Response&)> tamper;

 private:
  broker::Broker broker_;
  ClientOptions options_;
  std::atomic<uint64_t> next_id_{0};
  mutable std::mutex mu_;
  bool record_calls_ = true;
  std::vector<CallRecord> calls_;
};

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_UNIT_FAKE_CLIENT_CORE_H_
