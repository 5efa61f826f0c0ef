// EtcdClient: etcd v3 calls with deadlines, endpoint rotation and errors
// that name etcd.
#include "broker-sim/src/etcd/etcd_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace atomix::broker {
namespace {

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

// Whether a failure means the endpoint (or its quorum) is not there.
bool Unreachable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

absl::Status EtcdError(const std::string& endpoint, const grpc::Status& status) {
  const std::string& message = status.error_message();
  const std::string where = absl::StrCat("etcd ", endpoint, ": ");
  if (absl::StrContains(message, "database space exceeded")) {
    return absl::ResourceExhaustedError(absl::StrCat(
        where, "the cluster is out of space (NOSPACE alarm): ", message,
        "; writes fail until an operator compacts, defragments and disarms it"));
  }
  if (absl::StrContains(message, "request is too large")) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, message, " (etcd --max-request-bytes)"));
  }
  if (absl::StrContains(message, "required revision has been compacted")) {
    return absl::OutOfRangeError(absl::StrCat(where, message));
  }
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::UnavailableError(absl::StrCat(
          where, "unreachable or without a quorum: ", message));
    default:
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat(where, message));
  }
}

EtcdClient::EtcdClient(std::vector<std::string> endpoints)
    : endpoints_(std::move(endpoints)) {
  for (const std::string& address : endpoints_) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    // Notice a dead member, and reconnect soon after it returns. etcd
    // refuses pings more often than every 5 s (--grpc-keepalive-min-time).
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 3000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    Endpoint e;
    e.address = address;
    e.channel = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args);
    e.kv = etcdserverpb::KV::NewStub(e.channel);
    e.watch = etcdserverpb::Watch::NewStub(e.channel);
    e.lease = etcdserverpb::Lease::NewStub(e.channel);
    e.maintenance = etcdserverpb::Maintenance::NewStub(e.channel);
    channels_.push_back(std::move(e));
  }
}

EtcdClient::Endpoint& EtcdClient::Current() {
  return channels_[current_.load() % channels_.size()];
}

absl::Status EtcdClient::Failed(const Endpoint& e, const grpc::Status& status) {
  if (Unreachable(status)) {
    const size_t at = static_cast<size_t>(&e - channels_.data());
    size_t expected = at;
    current_.compare_exchange_strong(expected, (at + 1) % channels_.size());
  }
  return EtcdError(e.address, status);
}

template <typename Call>
absl::Status EtcdClient::ReadWithRetry(absl::Duration timeout, Call call) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last;
  for (size_t tries = 0; tries < channels_.size(); ++tries) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    Endpoint& e = Current();
    grpc::ClientContext context;
    // Leave time for the other endpoints if this one does not answer.
    SetDeadline(context, tries + 1 < channels_.size()
                             ? std::max(left / 2, std::min(left, absl::Milliseconds(500)))
                             : left);
    grpc::Status status = call(e, context);
    if (status.ok()) return absl::OkStatus();
    last = Failed(e, status);
    if (!Unreachable(status)) return last;
  }
  return last.ok() ? absl::UnavailableError("etcd: no endpoint answered in time")
                   : last;
}

absl::StatusOr<etcdserverpb::RangeResponse> EtcdClient::Range(
    const etcdserverpb::RangeRequest& request, absl::Duration timeout) {
  etcdserverpb::RangeResponse response;
  absl::Status status = ReadWithRetry(
      timeout, [&](Endpoint& e, grpc::ClientContext& context) {
        return e.kv->Range(&context, request, &response);
      });
  if (!status.ok()) return status;
  return response;
}

template <typename Response, typename Call>
absl::StatusOr<Response> EtcdClient::Once(absl::Duration timeout, Call call) {
  Endpoint& e = Current();
  grpc::ClientContext context;
  SetDeadline(context, timeout);
  Response response;
  grpc::Status status = call(e, context, response);
  if (!status.ok()) return Failed(e, status);
  return response;
}

absl::StatusOr<etcdserverpb::TxnResponse> EtcdClient::Txn(
    const etcdserverpb::TxnRequest& request, absl::Duration timeout) {
  return Once<etcdserverpb::TxnResponse>(
      timeout, [&](Endpoint& e, grpc::ClientContext& context, auto& response) {
        return e.kv->Txn(&context, request, &response);
      });
}

absl::StatusOr<etcdserverpb::DeleteRangeResponse> EtcdClient::DeleteRange(
    const etcdserverpb::DeleteRangeRequest& request, absl::Duration timeout) {
  return Once<etcdserverpb::DeleteRangeResponse>(
      timeout, [&](Endpoint& e, grpc::ClientContext& context, auto& response) {
        return e.kv->DeleteRange(&context, request, &response);
      });
}

absl::Status EtcdClient::Compact(int64_t revision, absl::Duration timeout) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  return Once<etcdserverpb::CompactionResponse>(
             timeout, [&](Endpoint& e, grpc::ClientContext& context, auto& response) {
               return e.kv->Compact(&context, request, &response);
             })
      .status();
}

absl::StatusOr<int64_t> EtcdClient::LeaseGrant(absl::Duration ttl,
                                               absl::Duration timeout) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(std::max<int64_t>(1, absl::ToInt64Seconds(ttl)));
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> granted =
      Once<etcdserverpb::LeaseGrantResponse>(
          timeout, [&](Endpoint& e, grpc::ClientContext& context, auto& response) {
            return e.lease->LeaseGrant(&context, request, &response);
          });
  if (!granted.ok()) return granted.status();
  if (!granted->error().empty()) {
    return absl::UnavailableError(absl::StrCat("etcd: lease grant: ", granted->error()));
  }
  return granted->id();
}

absl::Status EtcdClient::LeaseKeepAlive(int64_t id, absl::Duration timeout) {
  Endpoint& e = Current();
  grpc::ClientContext context;
  SetDeadline(context, timeout);
  auto stream = e.lease->LeaseKeepAlive(&context);
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  etcdserverpb::LeaseKeepAliveResponse response;
  const bool answered = stream->Write(request) && stream->Read(&response);
  stream->WritesDone();
  context.TryCancel();
  grpc::Status status = stream->Finish();
  if (!answered) {
    return Failed(e, status.ok() || status.error_code() == grpc::StatusCode::CANCELLED
                         ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "keep-alive stream ended")
                         : status);
  }
  if (response.ttl() <= 0) {
    return absl::NotFoundError(absl::StrCat("etcd lease ", id, " expired"));
  }
  return absl::OkStatus();
}

absl::Status EtcdClient::LeaseRevoke(int64_t id, absl::Duration timeout) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  return Once<etcdserverpb::LeaseRevokeResponse>(
             timeout, [&](Endpoint& e, grpc::ClientContext& context, auto& response) {
               return e.lease->LeaseRevoke(&context, request, &response);
             })
      .status();
}

absl::StatusOr<std::vector<std::string>> EtcdClient::Alarms(
    absl::Duration timeout) {
  etcdserverpb::AlarmResponse response;
  absl::Status status = ReadWithRetry(
      timeout, [&](Endpoint& e, grpc::ClientContext& context) {
        etcdserverpb::AlarmRequest request;
        request.set_action(etcdserverpb::AlarmRequest::GET);
        return e.maintenance->Alarm(&context, request, &response);
      });
  if (!status.ok()) return status;
  std::vector<std::string> alarms;
  for (const etcdserverpb::AlarmMember& m : response.alarms()) {
    alarms.push_back(etcdserverpb::AlarmType_Name(m.alarm()));
  }
  return alarms;
}

absl::StatusOr<std::unique_ptr<EtcdClient::WatchStream>> EtcdClient::Watch(
    const etcdserverpb::WatchCreateRequest& create) {
  Endpoint& e = Current();
  auto stream = std::make_unique<WatchStream>();
  stream->endpoint_ = e.address;
  // The stream lives until cancelled, but must reach its endpoint soon.
  stream->context_.set_wait_for_ready(false);
  stream->stream_ = e.watch->Watch(&stream->context_);
  etcdserverpb::WatchRequest request;
  *request.mutable_create_request() = create;
  if (!stream->stream_->Write(request)) {
    grpc::Status status = stream->stream_->Finish();
    return Failed(e, status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                                "watch stream ended")
                                 : status);
  }
  return stream;
}

absl::Status EtcdClient::WatchStream::Finish() {
  grpc::Status status = stream_->Finish();
  if (status.ok()) return absl::UnavailableError(absl::StrCat("etcd ", endpoint_, ": watch ended"));
  return EtcdError(endpoint_, status);
}

std::vector<std::string> EtcdClient::ReachableEndpoints() const {
  std::vector<std::string> reachable;
  for (const Endpoint& e : channels_) {
    const grpc_connectivity_state state = e.channel->GetState(true);
    if (state == GRPC_CHANNEL_READY || state == GRPC_CHANNEL_IDLE) {
      reachable.push_back(e.address);
    }
  }
  return reachable;
}

}  // namespace atomix::broker
