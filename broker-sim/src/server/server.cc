// gRPC server setup for the broker.
#include "broker-sim/src/server/server.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

// Why binding `listen` fails, found by binding it once more ourselves; empty
// if that cannot be told.
std::string BindFailureReason(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:")) return "";
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "expected host:port";
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(),
                           port.c_str(), &hints, &found);
      rc != 0) {
    return gai_strerror(rc);
  }
  std::string reason;
  for (addrinfo* ai = found; ai != nullptr && reason.empty();
       ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      reason = std::strerror(errno);
    }
    close(fd);
  }
  freeaddrinfo(found);
  return reason;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BrokerServer>> BrokerServer::Start(
    Broker& broker, const ServerOptions& options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<BrokerServer> server(new BrokerServer(broker));
  WatchOptions watch = options.watch;
  // A revision that cannot fit one message is replaced by a snapshot.
  watch.max_revision_bytes = std::min<size_t>(
      watch.max_revision_bytes,
      static_cast<size_t>(std::max(options.max_message_bytes - (64 << 10),
                                   1 << 20)));
  server->service_ = std::make_unique<BrokerService>(
      broker, options.stream, options.faults, watch, options.authenticator);
  WatchHub* hub = &server->service_->hub();
  broker.store().SetChangeListener(
      [hub](absl::Span<const std::string> names) { hub->Changed(names); });
  CompletionRouter* router = &server->service_->router();
  broker.store().SetCompletionListener(
      [router](std::vector<Completion>& completions) { router->Route(completions); });
  server->listening_ = true;

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen,
                           options.credentials != nullptr
                               ? options.credentials
                               : grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.RegisterService(server->service_.get());
  server->process_.started = absl::Now();
  BrokerService* service = server->service_.get();
  server->process_.open_calls = [service] { return service->open_calls(); };
  server->process_.watchers = [service] { return service->hub().watchers(); };
  server->admin_ = std::make_unique<AdminService>(broker, server->process_,
                                                  options.authenticator);
  builder.RegisterService(server->admin_.get());
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_streams_per_connection);
  grpc::ResourceQuota quota("atomix-broker");
  quota.Resize(static_cast<size_t>(options.grpc_memory_bytes));
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  // gRPC 1.51 inflates a compressed message with no bound before any size
  // check: a 200 KB gzip of zeros becomes 200 MB. The broker never inflates
  // messages (see docs/security.md, "Transport limits").
  builder.AddChannelArgument(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0);
  // A second broker on a taken port must fail, not share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Find dead clients, and let live ones keep idle streams open with pings.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);

  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    if (server->server_ != nullptr) server->server_->Shutdown();
    const std::string reason = BindFailureReason(options.listen);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     reason.empty() ? "" : ": ", reason));
  }
  BrokerServer* raw = server.get();
  server->ticker_ = std::thread([raw, clock = options.clock,
                                 interval = options.tick_interval] {
    raw->RunTicker(clock, interval);
  });
  return server;
}

void BrokerServer::RunTicker(std::function<absl::Time()> clock,
                             absl::Duration interval) {
  std::vector<Completion> completions;
  bool serving = true;
  while (!stop_ticker_.WaitForNotificationWithTimeout(interval)) {
    broker_.Tick(clock(), completions);
    service_->router().Route(completions);
    const absl::Status health = broker_.store().Health();
    if (health.ok() != serving) {
      serving = health.ok();
      server_->GetHealthCheckService()->SetServingStatus(serving);
      if (!serving) {
        // Clients move to a broker that can serve: open calls end now, and
        // new streams are refused until the store recovers.
        const size_t reset = service_->ResetCalls();
        spdlog::warn("not serving ({}): reset {} streams and watches",
                     std::string(health.message()), reset);
      } else {
        spdlog::info("serving again");
      }
    }
  }
}

size_t BrokerServer::ResetCalls() {
  return service_ == nullptr ? 0 : service_->ResetCalls();
}

void BrokerServer::ExpireAllSessions() {
  std::vector<Completion> completions;
  broker_.ExpireAllSessions(completions);
  if (service_ != nullptr) service_->router().Route(completions);
}

BrokerServer::BrokerServer(Broker& broker) : broker_(broker) {}

BrokerServer::~BrokerServer() { Shutdown(absl::ZeroDuration()); }

void BrokerServer::Shutdown(absl::Duration grace) {
  if (ticker_.joinable()) {
    stop_ticker_.Notify();
    ticker_.join();
  }
  if (server_ != nullptr) {
    // Watches never end on their own: end them now rather than after
    // `grace`, and let them finish before the server says goodbye (calls
    // still open then hold its shutdown for the whole grace period).
    service_->CloseWatches(grace);
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
    server_.reset();
  }
  if (listening_) {
    // Every call is done: nothing but this thread uses the store now.
    broker_.store().SetChangeListener(nullptr);
    broker_.store().SetCompletionListener(nullptr);
    listening_ = false;
  }
}

}  // namespace atomix::broker
