// FakeClientCore: an in-process ClientCore that hands every request to a real
// broker core (broker::Broker over a MemoryStore) and converts Response.error
// into a status the way the SDK does (internal::FromResponse). No network.
//
//   auto core = std::make_shared<atomix::testing::FakeClientCore>();
//   auto counter = atomix::internal::GetCounter(core, "jobs");
//   EXPECT_EQ(core->calls().back().request.session_id(), core->session_id());
//
// Like the real core, it opens a broker session when created
// (SessionRequest.open) and stamps every request with the session id, every
// mutation (a non-idempotent call) with the next sequence number, and every
// request with the highest sequence below which all answers have arrived
// (ack_sequence). Sessionless() makes a core without a session, whose
// revisions start at 1 (opening a session takes a revision).
//
// Several cores can share one FakeBroker, each with its own session, to test
// what clients see of each other (lock queues, elections). The FakeBroker's
// clock is manual: Advance() moves it and runs what falls due (session
// expiry, TTL entries, lock waiter timeouts). Calls that the broker answers
// later (a waiting lock acquire) block until answered, until their deadline
// (then the broker is told to forget them, and the call fails with
// DEADLINE_EXCEEDED), or until cancelled.
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
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "atomix/call_options.h"
#include "atomix/client.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/store/memory_store.h"
#include "sdk/src/broker_timeout.h"
#include "sdk/src/client_core.h"
#include "sdk/src/status_convert.h"

namespace atomix::testing {

// One in-process broker with a manual clock, shared by any number of fake
// cores. Thread-safe.
class FakeBroker {
 public:
  explicit FakeBroker(broker::Limits limits = {})
      : broker_(std::make_unique<broker::MemoryStore>(
                    limits, [this] { return absl::FromUnixNanos(now_nanos_.load()); }),
                limits) {}

  broker::Broker& broker() { return broker_; }
  int64_t revision() { return broker_.store().revision(); }
  absl::Time now() const { return absl::FromUnixNanos(now_nanos_.load()); }

  // Moves the broker's clock forward by `d` and runs whatever falls due.
  void Advance(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_nanos_ += absl::ToInt64Nanoseconds(d);
    std::vector<broker::Completion> completions;
    broker_.Tick(now(), completions);
    Route(completions);
  }

  // Ends every session, as if each had expired.
  void ExpireAllSessions() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<broker::Completion> completions;
    broker_.ExpireAllSessions(completions);
    Route(completions);
  }

  // The number of calls waiting for a late answer.
  size_t waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_.size();
  }

  // Blocks until waiting() == n (or 10 s pass); returns whether it did.
  bool AwaitWaiting(size_t n) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (waiting() != n) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  // Executes `request`; if the broker answers it later, waits for that
  // answer until `deadline` or `cancel`.
  absl::StatusOr<v1::Response> Run(const v1::Request& request,
                                   std::chrono::steady_clock::time_point deadline,
                                   std::stop_token cancel) {
    Slot slot;
    // Constructed before mu_ is taken: it may run at once.
    std::stop_callback wake(cancel, [this] {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t origin = next_origin_++;
    std::vector<broker::Completion> completions;
    v1::Response response;
    const bool answered = broker_.Execute(request, origin, response, completions);
    Route(completions);
    if (answered) return response;
    waiting_[origin] = &slot;
    while (!slot.done) {
      if (cancel.stop_requested()) {
        Forget(origin, request.id());
        return absl::CancelledError("call cancelled");
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && !slot.done) {
        Forget(origin, request.id());
        return absl::DeadlineExceededError("no answer from the broker before the deadline");
      }
    }
    waiting_.erase(origin);
    return std::move(slot.response);
  }

 private:
  struct Slot {
    bool done = false;
    v1::Response response;
  };

  void Route(std::vector<broker::Completion>& completions) {
    for (broker::Completion& c : completions) {
      auto it = waiting_.find(c.origin);
      if (it == waiting_.end()) continue;
      it->second->done = true;
      it->second->response = std::move(c.response);
    }
    if (!completions.empty()) cv_.notify_all();
  }

  // As the client core does for a caller that gave up: withdraws the
  // request with a CancelRequest (latch and barrier waits outlive a closed
  // stream), then closes its stream.
  void Forget(uint64_t origin, uint64_t request_id) {
    waiting_.erase(origin);
    v1::Request cancel;
    cancel.mutable_cancel()->set_request_id(request_id);
    v1::Response ignored;
    std::vector<broker::Completion> completions;
    broker_.Execute(cancel, origin, ignored, completions);
    broker_.Cancel(origin);
  }

  std::atomic<int64_t> now_nanos_{absl::ToUnixNanos(absl::FromUnixSeconds(1'700'000'000))};
  broker::Broker broker_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_origin_ = 1;
  std::map<uint64_t, Slot*> waiting_;
};

struct FakeCoreOptions {
  bool session = true;
  // SessionOpen.ttl_ms; 0: the broker default.
  int64_t session_ttl_ms = 0;
};

class FakeClientCore : public internal::ClientCore {
 public:
  struct CallRecord {
    v1::Request request;
    bool idempotent = false;
  };

  using Options = FakeCoreOptions;

  // A core with a broker of its own.
  explicit FakeClientCore(broker::Limits limits = {}, Options options = Options())
      : FakeClientCore(std::make_shared<FakeBroker>(limits), options) {}

  // A core that shares `broker` with others.
  explicit FakeClientCore(std::shared_ptr<FakeBroker> broker, Options options = Options())
      : fake_(std::move(broker)) {
    if (options.session) session_status_ = OpenSession(options.session_ttl_ms);
  }

  // A core without a session: revisions start at 1, requests carry no
  // session id or sequence number.
  static std::shared_ptr<FakeClientCore> Sessionless(broker::Limits limits = {}) {
    return std::make_shared<FakeClientCore>(limits, Options{.session = false});
  }

  ~FakeClientCore() override { StopSessions(); }

  absl::StatusOr<v1::Response> Call(v1::Request request, const CallOptions& options,
                                    bool idempotent) override {
    request.set_id(next_id_.fetch_add(1) + 1);
    if (options.cancel.stop_requested()) return absl::CancelledError("call cancelled");
    uint64_t sequence = 0;
    {
      std::lock_guard<std::mutex> lock(session_mu_);
      if (session_id_ != 0 && !request.has_session()) {
        request.set_session_id(session_id_);
        if (!idempotent) {
          sequence = ++next_sequence_;
          request.set_sequence(sequence);
        }
        request.set_ack_sequence(acked_);
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (record_calls_) calls_.push_back(CallRecord{request, idempotent});
    }
    if (intercept) {
      if (std::optional<absl::Status> s = intercept(request); s.has_value()) {
        Done(sequence);
        return *s;
      }
    }
    auto deadline = internal::EffectiveDeadline(
        options,
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.default_call_timeout));
    absl::StatusOr<v1::Response> response = fake_->Run(request, deadline, options.cancel);
    Done(sequence);
    if (!response.ok()) return response.status();
    if (tamper) tamper(request, *response);
    return internal::FromResponse(*std::move(response));
  }

  // As the stream core writes a blocking request: with the time left before
  // the caller's deadline as timeout_ms. (This fake sends it once, so it
  // never needs give_back.)
  absl::StatusOr<v1::Response> CallBlocking(v1::Request request, const CallOptions& options,
                                            internal::GiveBack give_back) override {
    (void)give_back;
    const auto now = std::chrono::steady_clock::now();
    const auto deadline = internal::EffectiveDeadline(
        options,
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.default_call_timeout), now);
    request.set_timeout_ms(internal::BrokerTimeoutMs(deadline, now));
    CallOptions absolute = options;
    absolute.timeout.reset();
    absolute.deadline = deadline;
    return Call(std::move(request), absolute, /*idempotent=*/false);
  }

  const ClientOptions& options() const override { return options_; }
  absl::Status WaitConnected(std::chrono::steady_clock::time_point) override {
    return absl::OkStatus();
  }
  std::string connected_endpoint() const override { return "in-process"; }
  std::string broker_id() const override { return fake_->broker().id(); }

  uint64_t session_id() const override {
    std::lock_guard<std::mutex> lock(session_mu_);
    return session_id_;
  }

  std::stop_token SessionLostToken(uint64_t id) const override {
    std::lock_guard<std::mutex> lock(session_mu_);
    auto it = lost_.find(id);
    if (it != lost_.end()) return it->second.get_token();
    std::stop_source gone;
    gone.request_stop();
    return gone.get_token();
  }

  // Whether the session opened at construction (or by OpenSession) opened.
  const absl::Status& session_status() const { return session_status_; }

  // Opens a new session (SessionRequest.open), which later requests carry.
  absl::Status OpenSession(int64_t ttl_ms = 0) {
    v1::Request open;
    open.set_id(next_id_.fetch_add(1) + 1);
    open.mutable_session()->mutable_open()->set_ttl_ms(ttl_ms);
    auto r = fake_->Run(open, std::chrono::steady_clock::now() + std::chrono::seconds(10), {});
    if (!r.ok()) return r.status();
    absl::StatusOr<v1::Response> converted = internal::FromResponse(*std::move(r));
    if (!converted.ok()) return converted.status();
    if (!converted->has_session() || converted->session().session_id() == 0) {
      return absl::InternalError("SessionOpen answered without a session id");
    }
    std::lock_guard<std::mutex> lock(session_mu_);
    session_id_ = converted->session().session_id();
    next_sequence_ = 0;
    acked_ = 0;
    done_.clear();
    lost_.emplace(session_id_, std::stop_source());
    return absl::OkStatus();
  }

  // Closes the session (SessionRequest.close): the broker releases its locks,
  // withdraws its candidacies and deletes its ephemeral entries. Its
  // SessionLostToken stops. Later requests carry no session until
  // OpenSession().
  absl::Status CloseSession() {
    uint64_t id = 0;
    {
      std::lock_guard<std::mutex> lock(session_mu_);
      id = std::exchange(session_id_, 0);
    }
    if (id == 0) return absl::OkStatus();
    v1::Request close;
    close.set_id(next_id_.fetch_add(1) + 1);
    close.set_session_id(id);
    close.mutable_session()->mutable_close();
    auto r = fake_->Run(close, std::chrono::steady_clock::now() + std::chrono::seconds(10), {});
    MarkLost(id);
    if (!r.ok()) return r.status();
    return internal::FromResponse(*std::move(r)).status();
  }

  // Tells the core its session is gone (e.g. after FakeBroker::Advance past
  // the TTL): stops its SessionLostToken and opens a new session.
  absl::Status ReplaceSession(int64_t ttl_ms = 0) {
    uint64_t id = 0;
    {
      std::lock_guard<std::mutex> lock(session_mu_);
      id = std::exchange(session_id_, 0);
    }
    MarkLost(id);
    return OpenSession(ttl_ms);
  }

  FakeBroker& fake_broker() { return *fake_; }
  broker::Broker& broker() { return fake_->broker(); }
  int64_t revision() { return fake_->revision(); }

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
  // Sequence `sequence` (0: none) has its answer: acknowledge it once all
  // before it have theirs.
  void Done(uint64_t sequence) {
    if (sequence == 0) return;
    std::lock_guard<std::mutex> lock(session_mu_);
    done_.insert(sequence);
    while (!done_.empty() && *done_.begin() == acked_ + 1) {
      done_.erase(done_.begin());
      ++acked_;
    }
  }

  void MarkLost(uint64_t id) {
    std::lock_guard<std::mutex> lock(session_mu_);
    auto it = lost_.find(id);
    if (it != lost_.end()) it->second.request_stop();
  }

  void StopSessions() {
    std::lock_guard<std::mutex> lock(session_mu_);
    for (auto& [id, source] : lost_) source.request_stop();
  }

  std::shared_ptr<FakeBroker> fake_;
  ClientOptions options_;
  std::atomic<uint64_t> next_id_{0};
  mutable std::mutex mu_;
  bool record_calls_ = true;
  std::vector<CallRecord> calls_;

  mutable std::mutex session_mu_;
  absl::Status session_status_;
  uint64_t session_id_ = 0;
  uint64_t next_sequence_ = 0;
  uint64_t acked_ = 0;
  std::set<uint64_t> done_;
  std::map<uint64_t, std::stop_source> lost_;
};

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_UNIT_FAKE_CLIENT_CORE_H_
