// EtcdClient: the etcd v3 calls the etcd store makes (KV, Watch, Lease),
// over one gRPC channel per endpoint, generated from etcd's own protos.
//
// Every call has a deadline. A call that cannot reach its endpoint moves
// the client to the next endpoint for later calls; calls that only read
// (Range) are retried on the other endpoints within their deadline, writes
// are not (their outcome is unknown). Errors name etcd and the endpoint:
// RESOURCE_EXHAUSTED for a NOSPACE alarm ("database space exceeded"),
// INVALID_ARGUMENT for a request over etcd's size limit, UNAVAILABLE when no
// quorum or no endpoint answers in time, OUT_OF_RANGE for a compacted
// revision.
//
//   EtcdClient etcd({"127.0.0.1:2379", "127.0.0.1:22379"});
//   absl::StatusOr<etcdserverpb::RangeResponse> r = etcd.Range(req, timeout);
//
// Thread-safety: thread-safe.
#ifndef ATOMIX_BROKER_ETCD_ETCD_CLIENT_H_
#define ATOMIX_BROKER_ETCD_ETCD_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace atomix::broker {

// The end of the key range holding every key that starts with `prefix`.
std::string PrefixEnd(const std::string& prefix);

class EtcdClient {
 public:
  explicit EtcdClient(std::vector<std::string> endpoints);

  absl::StatusOr<etcdserverpb::RangeResponse> Range(
      const etcdserverpb::RangeRequest& request, absl::Duration timeout);
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(
      const etcdserverpb::TxnRequest& request, absl::Duration timeout);
  absl::StatusOr<etcdserverpb::DeleteRangeResponse> DeleteRange(
      const etcdserverpb::DeleteRangeRequest& request, absl::Duration timeout);
  absl::Status Compact(int64_t revision, absl::Duration timeout);
  // A new lease of `ttl` (whole seconds, at least one); its id.
  absl::StatusOr<int64_t> LeaseGrant(absl::Duration ttl,
                                     absl::Duration timeout);
  // Renews lease `id` once; NOT_FOUND if it expired.
  absl::Status LeaseKeepAlive(int64_t id, absl::Duration timeout);
  absl::Status LeaseRevoke(int64_t id, absl::Duration timeout);
  // The active alarms ("NOSPACE", "CORRUPT"), empty if none.
  absl::StatusOr<std::vector<std::string>> Alarms(absl::Duration timeout);

  // One open Watch stream. Read blocks; Cancel (from any thread) makes it
  // return false.
  class WatchStream {
   public:
    bool Read(etcdserverpb::WatchResponse& response) {
      return stream_->Read(&response);
    }
    void Cancel() { context_.TryCancel(); }
    // After Read returned false: why.
    absl::Status Finish();

   private:
    friend class EtcdClient;
    grpc::ClientContext context_;
    std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest,
                                             etcdserverpb::WatchResponse>>
        stream_;
    std::string endpoint_;
  };
  // Opens a stream watching `create` on the current endpoint; the stream
  // is created once its first response arrives (Read it).
  absl::StatusOr<std::unique_ptr<WatchStream>> Watch(
      const etcdserverpb::WatchCreateRequest& create);

  // The endpoints whose channel is connected (or idle, not failing).
  std::vector<std::string> ReachableEndpoints() const;
  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  struct Endpoint {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  };
  // The endpoint calls go to now.
  Endpoint& Current();
  // After a call to `e` failed with `status`: moves on if it was
  // unreachable; returns the status translated (see above).
  absl::Status Failed(const Endpoint& e, const grpc::Status& status);
  // Runs a call once on the current endpoint.
  template <typename Response, typename Call>
  absl::StatusOr<Response> Once(absl::Duration timeout, Call call);
  // Runs a read on each endpoint in turn until one answers or the
  // deadline passes.
  template <typename Call>
  absl::Status ReadWithRetry(absl::Duration timeout, Call call);

  std::vector<std::string> endpoints_;
  std::vector<Endpoint> channels_;
  std::atomic<size_t> current_{0};
};

// Translates a failed etcd call's status (see the class comment).
absl::Status EtcdError(const std::string& endpoint, const grpc::Status& status);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_ETCD_ETCD_CLIENT_H_
