// A scripted in-process atomix broker for SDK transport unit tests. It
// implements Broker.Stream and Broker.Call on 127.0.0.1, records what
// arrives, and answers in a chosen way:
//   kAnswer   answer every batch at once, in order;
//   kHold     never answer (the stream stays open);
//   kGather   hold requests until `gather` of them arrived, then answer them
//             all in one batch in reverse order of arrival.
// An answer echoes the request: Response.id = Request.id, revision = id,
// counter value = CounterAdd.delta; an OpenRequest gets an OpenResponse (so
// typed primitives can be opened). A request named "fail" is answered with
// FAILED_PRECONDITION "mismatch" and current 42 (for Broker.Call: the status
// and the "atomix-current" trailer).
//
// Sessions (Broker.Stream only). Session requests are answered at once in
// every mode and are not counted in requests() or batch_sizes(). Sessions
// live on a controllable clock: the real steady clock plus AdvanceClock()
// offsets; a session expires once that clock passes its last request plus
// its TTL. A request naming an unknown or expired session is answered with
// ABORTED. A request with (session, sequence > 0) is applied once: a retry
// gets the first answer again (with the retry's id) and counts as a
// duplicate. With set_sessions(false) the broker answers session requests
// with INVALID_ARGUMENT "type is unspecified", like a broker that predates
// sessions. A request named "drop" is applied, and then the broker ends the
// stream without answering it, once per FakeBroker.
//
// Watches (Broker.Watch) are scripted. Every call is recorded
// (watch_requests()). While RefuseWatches(status) is set, a call ends with
// that status before its header. Otherwise the call sends its header
// (broker_id, watch_revision()) and then serves the shared queue of watch
// actions, in order, whichever call is current: PushWatch(message) sends a
// message, EndWatch(status) ends the call with a status (the next call
// serves the actions after it), FloodWatch(from) sends one counter UPDATED
// event per message at revisions from, from+1, ... until the call is
// cancelled. watch_calls_active() counts calls running now.
//
// Thread-safety: all methods are safe from any thread. One FakeBroker serves
// one server lifetime; to "restart" a broker, Stop() it and start a new one
// on the same port.
#ifndef ATOMIX_TESTS_UNIT_SDK_FAKE_BROKER_H_
#define ATOMIX_TESTS_UNIT_SDK_FAKE_BROKER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "atomix/client.h"
#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {

class FakeBroker final : public v1::Broker::Service {
 public:
  enum class Mode { kAnswer, kHold, kGather };

  // Listens on 127.0.0.1:`port` (0 picks a free port).
  // With `sessions` false, the broker answers session requests as a broker
  // without session support would (see set_sessions()).
  explicit FakeBroker(std::string broker_id, int port = 0, Mode mode = Mode::kAnswer,
                      int gather = 0, bool sessions = true)
      : broker_id_(std::move(broker_id)), mode_(mode), gather_(gather), sessions_enabled_(sessions) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeBroker() override { Stop(); }

  bool started() const { return server_ != nullptr && port_ > 0; }
  int port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  // Ends every call at once and stops listening.
  void Stop() {
    if (!server_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    server_.reset();
  }

  void set_mode(Mode mode) {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = mode;
  }

  std::vector<int> batch_sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_sizes_;
  }
  int requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // Requests counted once per Request.id, so that a resend of a call whose
  // answer was slow does not count twice.
  int distinct_requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<uint64_t> ids;
    for (const v1::Request& r : received_) ids.insert(r.id());
    return static_cast<int>(ids.size());
  }
  int streams() const {
    std::lock_guard<std::mutex> lock(mu_);
    return streams_;
  }

  void set_sessions(bool enabled) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_enabled_ = enabled;
  }
  // Moves the session clock forward.
  void AdvanceClock(std::chrono::milliseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    offset_ += d;
  }
  // Forgets every session at once (as a broker restart with no history would).
  void ForgetSessions() {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.clear();
  }
  int session_opens() const {
    std::lock_guard<std::mutex> lock(mu_);
    return opens_;
  }
  int keep_alives() const {
    std::lock_guard<std::mutex> lock(mu_);
    return keep_alives_;
  }
  int session_closes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closes_;
  }
  int duplicates() const {
    std::lock_guard<std::mutex> lock(mu_);
    return duplicates_;
  }
  // Every non-session request received on streams, in arrival order.
  std::vector<v1::Request> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  // The keep-alive arrival times (steady clock).
  std::vector<std::chrono::steady_clock::time_point> keep_alive_times() const {
    std::lock_guard<std::mutex> lock(mu_);
    return keep_alive_times_;
  }
  bool WaitForKeepAlives(int n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return keep_alives_ >= n; });
  }

  // Waits until at least `n` requests arrived in total.
  bool WaitForRequests(int n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_ >= n; });
  }

  // Scripted watches (see the file comment).
  void RefuseWatches(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    watch_refusal_ = std::move(status);
  }
  void set_watch_revision(int64_t revision) {
    std::lock_guard<std::mutex> lock(mu_);
    watch_revision_ = revision;
  }
  void PushWatch(v1::WatchResponse message) { AddWatchAction({std::move(message), false, {}, 0}); }
  void EndWatch(grpc::Status status) { AddWatchAction({{}, true, std::move(status), 0}); }
  void FloodWatch(int64_t from) { AddWatchAction({{}, false, {}, from}); }
  std::vector<v1::WatchRequest> watch_requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return watch_requests_;
  }
  int watch_calls_active() const {
    std::lock_guard<std::mutex> lock(mu_);
    return watch_active_;
  }
  // Waits until `n` watch calls arrived in total.
  bool WaitForWatches(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return watch_requests_.size() >= n; });
  }
  // Waits until no queued watch action is left.
  bool WaitWatchActionsTaken(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return watch_actions_.empty(); });
  }

  grpc::Status Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::WatchResponse>* writer) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      watch_requests_.push_back(*request);
      ++watch_active_;
      cv_.notify_all();
    }
    struct Active {
      FakeBroker* broker;
      ~Active() {
        std::lock_guard<std::mutex> lock(broker->mu_);
        --broker->watch_active_;
        broker->cv_.notify_all();
      }
    } active{this};
    v1::WatchResponse header;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!watch_refusal_.ok()) return watch_refusal_;
      header.mutable_header()->set_broker_id(broker_id_);
      header.mutable_header()->set_revision(watch_revision_);
    }
    if (!writer->Write(header)) return grpc::Status::OK;
    for (;;) {
      WatchAction action;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(5),
                     [&] { return !watch_actions_.empty() || stopping_; });
        if (stopping_ || context->IsCancelled()) {
          return grpc::Status(grpc::StatusCode::CANCELLED, "watch ended");
        }
        if (watch_actions_.empty()) continue;
        action = std::move(watch_actions_.front());
        watch_actions_.pop_front();
        cv_.notify_all();
      }
      if (action.end) return action.status;
      if (action.flood > 0) {
        for (int64_t r = action.flood;; ++r) {
          v1::WatchResponse m;
          auto* e = m.add_events();
          e->set_type(v1::WatchEvent::UPDATED);
          e->set_revision(r);
          e->mutable_counter()->set_value(r);
          if (!writer->Write(m)) return grpc::Status::OK;
          std::lock_guard<std::mutex> lock(mu_);
          if (stopping_) return grpc::Status(grpc::StatusCode::CANCELLED, "watch ended");
        }
      }
      if (!writer->Write(action.message)) return grpc::Status::OK;
    }
  }

  static v1::Response Answer(const v1::Request& request) {
    v1::Response response;
    response.set_id(request.id());
    response.set_revision(static_cast<int64_t>(request.id()));
    if (request.has_open()) {
      response.mutable_open();
      return response;
    }
    if (request.name() == "fail") {
      response.mutable_error()->set_code(static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
      response.mutable_error()->set_message("mismatch");
      response.mutable_error()->set_current(42);
      return response;
    }
    response.mutable_counter()->set_value(request.counter().add().delta());
    return response;
  }

  grpc::Status Stream(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::ResponseBatch, v1::RequestBatch>* stream) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++streams_;
    }
    v1::ResponseBatch hello;
    hello.mutable_info()->set_broker_id(broker_id_);
    if (!stream->Write(hello)) return grpc::Status::OK;
    v1::RequestBatch batch;
    std::vector<v1::Request> gathered;
    while (stream->Read(&batch)) {
      Mode mode;
      v1::ResponseBatch out;
      std::vector<v1::Request> data;
      bool drop = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const v1::Request& r : batch.requests()) {
          if (r.has_session()) {
            *out.add_responses() = SessionAnswerLocked(r);
            continue;
          }
          received_.push_back(r);
          if (r.session_id() != 0) {
            v1::Response early;
            if (!CheckSessionLocked(r, &early)) {
              *out.add_responses() = std::move(early);
              continue;
            }
          }
          if (r.name() == "drop" && !dropped_once_) {
            dropped_once_ = true;
            drop = true;
            (void)AnswerOnceLocked(r);  // Applied, never answered.
            continue;
          }
          data.push_back(r);
        }
        if (!data.empty()) batch_sizes_.push_back(static_cast<int>(data.size()));
        requests_ += static_cast<int>(data.size());
        mode = mode_;
        cv_.notify_all();
      }
      if (drop) {
        if (out.responses_size() > 0) stream->Write(out);
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "dropped");
      }
      if (mode == Mode::kAnswer) {
        std::lock_guard<std::mutex> lock(mu_);
        for (const v1::Request& r : data) *out.add_responses() = AnswerOnceLocked(r);
      } else if (mode == Mode::kGather) {
        for (const v1::Request& r : data) gathered.push_back(r);
        if (static_cast<int>(gathered.size()) >= gather_) {
          std::lock_guard<std::mutex> lock(mu_);
          for (auto it = gathered.rbegin(); it != gathered.rend(); ++it) {
            *out.add_responses() = AnswerOnceLocked(*it);
          }
          gathered.clear();
        }
      }
      if (out.responses_size() > 0 && !stream->Write(out)) break;
    }
    return grpc::Status::OK;
  }

  grpc::Status Call(grpc::ServerContext* context, const v1::Request* request,
                    v1::Response* response) override {
    Mode mode;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch_sizes_.push_back(1);
      ++requests_;
      mode = mode_;
      cv_.notify_all();
    }
    if (mode == Mode::kHold) {
      while (!context->IsCancelled()) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stopping_) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return grpc::Status(grpc::StatusCode::CANCELLED, "held");
    }
    *response = Answer(*request);
    if (response->has_error()) {
      context->AddTrailingMetadata("atomix-current", std::to_string(response->error().current()));
      return grpc::Status(static_cast<grpc::StatusCode>(response->error().code()),
                          response->error().message());
    }
    return grpc::Status::OK;
  }

 private:
  struct WatchAction {
    v1::WatchResponse message;
    bool end = false;
    grpc::Status status;
    int64_t flood = 0;
  };

  void AddWatchAction(WatchAction action) {
    std::lock_guard<std::mutex> lock(mu_);
    watch_actions_.push_back(std::move(action));
    cv_.notify_all();
  }

  struct FakeSession {
    std::chrono::milliseconds ttl;
    std::chrono::steady_clock::time_point expires;
    std::map<uint64_t, v1::Response> answers;  // By sequence.
  };

  std::chrono::steady_clock::time_point NowLocked() const {
    return std::chrono::steady_clock::now() + offset_;
  }

  static v1::Response ErrorAnswer(const v1::Request& r, grpc::StatusCode code,
                                  const std::string& message) {
    v1::Response response;
    response.set_id(r.id());
    response.mutable_error()->set_code(static_cast<int>(code));
    response.mutable_error()->set_message(message);
    return response;
  }

  // Finds and touches r.session_id(); else sets `*error` to ABORTED.
  bool CheckSessionLocked(const v1::Request& r, v1::Response* error) {
    auto it = sessions_.find(r.session_id());
    if (it != sessions_.end() && NowLocked() >= it->second.expires) {
      sessions_.erase(it);
      it = sessions_.end();
    }
    if (it == sessions_.end()) {
      *error = ErrorAnswer(r, grpc::StatusCode::ABORTED,
                           "session " + std::to_string(r.session_id()) + " not found");
      return false;
    }
    it->second.expires = NowLocked() + it->second.ttl;
    auto& answers = it->second.answers;
    answers.erase(answers.begin(), answers.upper_bound(r.ack_sequence()));
    return true;
  }

  v1::Response SessionAnswerLocked(const v1::Request& r) {
    if (!sessions_enabled_) {
      return ErrorAnswer(r, grpc::StatusCode::INVALID_ARGUMENT, "type is unspecified");
    }
    v1::Response response;
    response.set_id(r.id());
    if (r.session().has_open()) {
      ++opens_;
      const uint64_t id = next_session_.fetch_add(1);  // Unique across restarts.
      const auto ttl = std::chrono::milliseconds(r.session().open().ttl_ms());
      sessions_[id] = FakeSession{ttl, NowLocked() + ttl, {}};
      response.mutable_session()->set_session_id(id);
      response.mutable_session()->set_ttl_ms(ttl.count());
      return response;
    }
    if (r.session().has_keep_alive()) {
      ++keep_alives_;
      keep_alive_times_.push_back(std::chrono::steady_clock::now());
      cv_.notify_all();
    } else {
      ++closes_;
    }
    if (!CheckSessionLocked(r, &response)) return response;
    if (r.session().has_close()) sessions_.erase(r.session_id());
    response.mutable_session()->set_session_id(r.session_id());
    return response;
  }

  // Answer(), remembered per (session, sequence) so a retry gets it again.
  v1::Response AnswerOnceLocked(const v1::Request& r) {
    auto it = sessions_.find(r.session_id());
    if (r.sequence() == 0 || it == sessions_.end()) return Answer(r);
    auto& answers = it->second.answers;
    auto found = answers.find(r.sequence());
    if (found != answers.end()) {
      ++duplicates_;
      v1::Response again = found->second;
      again.set_id(r.id());
      return again;
    }
    v1::Response response = Answer(r);
    answers[r.sequence()] = response;
    return response;
  }

  const std::string broker_id_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Mode mode_;
  const int gather_;
  bool stopping_ = false;
  std::vector<int> batch_sizes_;
  int requests_ = 0;
  int streams_ = 0;
  bool sessions_enabled_;
  std::chrono::steady_clock::duration offset_{0};
  std::map<uint64_t, FakeSession> sessions_;
  inline static std::atomic<uint64_t> next_session_{1};
  int opens_ = 0;
  int keep_alives_ = 0;
  int closes_ = 0;
  int duplicates_ = 0;
  bool dropped_once_ = false;
  std::vector<v1::Request> received_;
  std::vector<std::chrono::steady_clock::time_point> keep_alive_times_;
  grpc::Status watch_refusal_;
  int64_t watch_revision_ = 1;
  std::deque<WatchAction> watch_actions_;
  std::vector<v1::WatchRequest> watch_requests_;
  int watch_active_ = 0;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// A loopback port that nothing listens on: bound, then closed.
inline int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Watch messages for scripted watches.
inline v1::WatchResponse WatchEvents(std::vector<v1::WatchEvent> events) {
  v1::WatchResponse m;
  for (v1::WatchEvent& e : events) *m.add_events() = std::move(e);
  return m;
}
inline v1::MapEntry WireEntry(std::string key, std::string value, int64_t version) {
  v1::MapEntry e;
  e.set_key(std::move(key));
  e.set_value(std::move(value));
  e.set_version(version);
  return e;
}
// A map/set/value event; `entry` / `previous` are left out when empty keys
// and values are wanted absent (pass std::nullopt).
inline v1::WatchEvent EntryEvent(v1::WatchEvent::Type type, int64_t revision,
                                 std::optional<v1::MapEntry> entry,
                                 std::optional<v1::MapEntry> previous = std::nullopt) {
  v1::WatchEvent e;
  e.set_type(type);
  e.set_revision(revision);
  if (entry) *e.mutable_entry() = std::move(*entry);
  if (previous) *e.mutable_previous() = std::move(*previous);
  return e;
}
inline v1::WatchEvent CounterChange(int64_t revision, int64_t value, int64_t previous) {
  v1::WatchEvent e;
  e.set_type(v1::WatchEvent::UPDATED);
  e.set_revision(revision);
  e.mutable_counter()->set_value(value);
  e.mutable_counter()->set_previous_value(previous);
  return e;
}
inline v1::WatchResponse Snapshot(v1::WatchSnapshot::Reason reason, int64_t revision,
                                  std::vector<v1::MapEntry> entries = {}, bool more = false) {
  v1::WatchResponse m;
  auto* s = m.mutable_snapshot();
  s->set_reason(reason);
  s->set_revision(revision);
  for (v1::MapEntry& e : entries) *s->add_entries() = std::move(e);
  s->set_more(more);
  return m;
}

// A CounterAdd request on `name` with `delta`.
// Client options for `endpoint` (a fake broker's) with a generous default
// call timeout, so that a slow machine fails no call by accident.
inline ClientOptions FakeBrokerOptions(const std::string& endpoint,
                                       std::chrono::milliseconds ttl = std::chrono::seconds(10)) {
  ClientOptions o;
  o.endpoints = {endpoint};
  o.default_call_timeout = std::chrono::seconds(30);
  o.session_ttl = ttl;
  return o;
}

inline v1::Request AddRequest(int64_t delta, std::string name = "c") {
  v1::Request r;
  r.set_type(v1::COUNTER);
  r.set_name(std::move(name));
  r.mutable_counter()->mutable_add()->set_delta(delta);
  return r;
}

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_UNIT_SDK_FAKE_BROKER_H_
