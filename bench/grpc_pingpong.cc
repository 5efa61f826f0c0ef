#include "bench/grpc_pingpong.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atomix/v1/broker.grpc.pb.h"
#include "bench/child_process.h"
#include "grpcpp/grpcpp.h"

namespace atomix::bench {
namespace {

class Echo final : public v1::Broker::Service {
  grpc::Status Stream(grpc::ServerContext*,
                      grpc::ServerReaderWriter<v1::ResponseBatch, v1::RequestBatch>* stream)
      override {
    v1::RequestBatch in;
    v1::ResponseBatch out;
    int64_t value = 0;
    while (stream->Read(&in)) {
      out.Clear();
      for (const v1::Request& r : in.requests()) {
        v1::Response* a = out.add_responses();
        a->set_id(r.id());
        a->mutable_counter()->set_value(++value);
        a->mutable_counter()->set_version(value);
      }
      if (!stream->Write(out)) break;
    }
    return grpc::Status::OK;
  }
};

using Stream = grpc::ClientReaderWriter<v1::RequestBatch, v1::ResponseBatch>;

class PingPong final : public Workload {
 public:
  PingPong(pid_t server, std::shared_ptr<grpc::Channel> channel, int callers)
      : server_(server), stub_(v1::Broker::NewStub(channel)) {
    for (int i = 0; i < callers; ++i) {
      auto& c = callers_.emplace_back(std::make_unique<Caller>());
      c->stream = stub_->Stream(&c->context);
      c->request.add_requests()->set_name("c");
      c->request.mutable_requests(0)->mutable_counter()->mutable_add()->set_delta(1);
    }
  }
  ~PingPong() override {
    for (auto& c : callers_) c->context.TryCancel();
    callers_.clear();
    kill(server_, SIGKILL);
    waitpid(server_, nullptr, 0);
  }

  absl::Status Op(int caller, int64_t i) override {
    Caller& c = *callers_[static_cast<size_t>(caller) % callers_.size()];
    c.request.mutable_requests(0)->set_id(static_cast<uint64_t>(i + 1));
    if (!c.stream->Write(c.request) || !c.stream->Read(&c.response)) {
      return absl::UnavailableError("the echo stream broke");
    }
    if (c.response.responses_size() != 1 ||
        c.response.responses(0).id() != static_cast<uint64_t>(i + 1)) {
      return absl::InternalError("the echo server answered another request");
    }
    return absl::OkStatus();
  }

 private:
  struct Caller {
    grpc::ClientContext context;
    std::unique_ptr<Stream> stream;
    v1::RequestBatch request;
    v1::ResponseBatch response;
  };

  pid_t server_;
  std::unique_ptr<v1::Broker::Stub> stub_;
  std::vector<std::unique_ptr<Caller>> callers_;
};

}  // namespace

int RunPingPongServer(const std::string& port_file) {
  Echo echo;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&echo);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return 1;
  {
    std::ofstream out(port_file + ".tmp");
    out << port << "\n";
  }
  if (rename((port_file + ".tmp").c_str(), port_file.c_str()) != 0) return 1;
  server->Wait();
  return 0;
}

absl::StatusOr<std::unique_ptr<Workload>> MakeGrpcPingPong(int callers) {
  char dir[] = "/tmp/atomix-pingpong-XXXXXX";
  if (mkdtemp(dir) == nullptr) return absl::InternalError("mkdtemp failed");
  const std::string port_file = absl::StrCat(dir, "/port");
  absl::StatusOr<pid_t> pid = SpawnSelf({"--pingpong-server", port_file});
  if (!pid.ok()) return pid.status();
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::ifstream in(port_file);
    if (!(in >> port)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  unlink(port_file.c_str());
  rmdir(dir);
  if (port == 0) {
    kill(*pid, SIGKILL);
    waitpid(*pid, nullptr, 0);
    return absl::UnavailableError("the echo server did not start");
  }
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    kill(*pid, SIGKILL);
    waitpid(*pid, nullptr, 0);
    return absl::UnavailableError("could not connect to the echo server");
  }
  return std::unique_ptr<Workload>(new PingPong(*pid, std::move(channel), callers));
}

}  // namespace atomix::bench
