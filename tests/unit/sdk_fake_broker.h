// A scripted in-process atomix broker for SDK transport unit tests. It
// implements Broker.Stream and Broker.Call on 127.0.0.1, records what
// arrives, and answers in a chosen way:
//   kAnswer   answer every batch at once, in order;
//   kHold     never answer (the stream stays open);
//   kGather   hold requests until `gather` of them arrived, then answer them
//             all in one batch in reverse order of arrival.
// An answer echoes the request: Response.id = Request.id, revision = id,
// counter value = CounterAdd.delta. A request named "fail" is answered with
// FAILED_PRECONDITION "mismatch" and current 42 (for Broker.Call: the status
// and the "atomix-current" trailer).
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

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"

namespace atomix::testing {

class FakeBroker final : public v1::Broker::Service {
 public:
  enum class Mode { kAnswer, kHold, kGather };

  // Listens on 127.0.0.1:`port` (0 picks a free port).
  explicit FakeBroker(std::string broker_id, int port = 0, Mode mode = Mode::kAnswer,
                      int gather = 0)
      : broker_id_(std::move(broker_id)), mode_(mode), gather_(gather) {
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
  int streams() const {
    std::lock_guard<std::mutex> lock(mu_);
    return streams_;
  }

  // Waits until at least `n` requests arrived in total.
  bool WaitForRequests(int n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_ >= n; });
  }

  static v1::Response Answer(const v1::Request& request) {
    v1::Response response;
    response.set_id(request.id());
    response.set_revision(static_cast<int64_t>(request.id()));
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
      {
        std::lock_guard<std::mutex> lock(mu_);
        batch_sizes_.push_back(batch.requests_size());
        requests_ += batch.requests_size();
        mode = mode_;
        cv_.notify_all();
      }
      v1::ResponseBatch out;
      if (mode == Mode::kAnswer) {
        for (const v1::Request& r : batch.requests()) *out.add_responses() = Answer(r);
      } else if (mode == Mode::kGather) {
        for (const v1::Request& r : batch.requests()) gathered.push_back(r);
        if (static_cast<int>(gathered.size()) >= gather_) {
          for (auto it = gathered.rbegin(); it != gathered.rend(); ++it) {
            *out.add_responses() = Answer(*it);
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
  const std::string broker_id_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Mode mode_;
  const int gather_;
  bool stopping_ = false;
  std::vector<int> batch_sizes_;
  int requests_ = 0;
  int streams_ = 0;
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

// A CounterAdd request on `name` with `delta`.
inline v1::Request AddRequest(int64_t delta, std::string name = "c") {
  v1::Request r;
  r.set_type(v1::COUNTER);
  r.set_name(std::move(name));
  r.mutable_counter()->mutable_add()->set_delta(delta);
  return r;
}

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_UNIT_SDK_FAKE_BROKER_H_
