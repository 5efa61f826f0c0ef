// Admin service: backups and status.
#include "broker-sim/src/server/admin_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "broker-sim/src/disk/snapshot_file.h"
#include "broker-sim/src/server/grpc_status.h"
#include "broker-sim/src/server/raw_message.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

// A unary call answered at once: `status`, and `response` serialized into
// `out` when the status is OK.
class Answered final : public grpc::ServerUnaryReactor {
 public:
  explicit Answered(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// Writes `file` as BackupChunks of kChunkBytes, one at a time; owns itself
// and deletes itself in OnDone. The first chunk carries the revision and the
// total size. Thread-safety: OnWriteDone and OnCancel may run concurrently;
// the state is guarded by one mutex.
class BackupWriter final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  BackupWriter(std::string file, int64_t revision)
      : file_(std::move(file)), revision_(revision) {
    absl::MutexLock lock(&mu_);
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (!ok) {
      finished_ = true;
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    if (offset_ >= file_.size()) {
      finished_ = true;
      Finish(grpc::Status::OK);
      return;
    }
    WriteNext();
  }

  void OnDone() override { delete this; }

 private:
  void WriteNext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::BackupChunk chunk;
    if (offset_ == 0) {
      chunk.set_revision(revision_);
      chunk.set_total_bytes(file_.size());
    }
    const size_t n = std::min(kChunkBytes, file_.size() - offset_);
    chunk.set_data(file_.substr(offset_, n));
    offset_ += n;
    out_ = SerializeMessage(chunk);
    StartWrite(&out_);
  }

  const std::string file_;
  const int64_t revision_;
  absl::Mutex mu_;
  size_t offset_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ByteBuffer out_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// Finishes a unary call with `status`, and with `response` when OK.
grpc::ServerUnaryReactor* AnswerWith(const absl::Status& status,
                                     const google::protobuf::Message& response,
                                     grpc::ByteBuffer* out) {
  if (status.ok()) *out = SerializeMessage(response);
  return new Answered(ToGrpc(status));
}

}  // namespace

grpc::Status AdminService::AllowAdmin(const grpc::ServerContextBase& context,
                                      std::string_view call) const {
  absl::StatusOr<std::string> principal = authenticator_->Authenticate(context);
  if (!principal.ok()) return ToGrpc(principal.status());
  return ToGrpc(broker_.AuthorizeAdmin(*principal, call));
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* AdminService::Backup(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw) {
  using Refused = grpc::ServerWriteReactor<grpc::ByteBuffer>;
  struct RefusedBackup final : Refused {
    explicit RefusedBackup(const grpc::Status& status) { Finish(status); }
    void OnDone() override { delete this; }
  };
  if (grpc::Status allowed = AllowAdmin(*context, "Admin.Backup"); !allowed.ok()) {
    return new RefusedBackup(allowed);
  }
  v1::BackupRequest request;
  if (grpc::Status parsed =
          ParseMessage(*raw, "atomix.v1.Admin/Backup", "the request", request,
                                         context);
      !parsed.ok()) {
    return new RefusedBackup(parsed);
  }
  atomix::log::v1::EngineSnapshot snapshot;
  if (absl::Status taken = broker_.store().Backup(snapshot); !taken.ok()) {
    return new RefusedBackup(ToGrpc(taken));
  }
  std::string file = EncodeSnapshot(snapshot);
  spdlog::info("backup at revision {} ({} bytes) for {}", snapshot.revision(), file.size(),
               context->peer());
  return new BackupWriter(std::move(file), snapshot.revision());
}

grpc::ServerUnaryReactor* AdminService::Status(grpc::CallbackServerContext* context,
                                               const grpc::ByteBuffer* raw,
                                               grpc::ByteBuffer* out) {
  if (absl::StatusOr<std::string> principal = authenticator_->Authenticate(*context);
      !principal.ok()) {
    return new Answered(ToGrpc(principal.status()));
  }
  v1::StatusRequest request;
  if (grpc::Status parsed =
          ParseMessage(*raw, "atomix.v1.Admin/Status", "the request", request,
                                         context);
      !parsed.ok()) {
    return new Answered(parsed);
  }
  return AnswerWith(absl::OkStatus(), DescribeBroker(broker_, process_), out);
}

grpc::ServerUnaryReactor* AdminService::ListSessions(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* raw,
                                                     grpc::ByteBuffer* out) {
  if (grpc::Status allowed = AllowAdmin(*context, "Admin.ListSessions"); !allowed.ok()) {
    return new Answered(allowed);
  }
  v1::ListSessionsRequest request;
  if (grpc::Status parsed = ParseMessage(*raw, "atomix.v1.Admin/ListSessions",
                                         "the request", request,
                                         context);
      !parsed.ok()) {
    return new Answered(parsed);
  }
  v1::ListSessionsResponse response;
  const absl::Status listed = broker::ListSessions(broker_, request, response);
  return AnswerWith(listed, response, out);
}

grpc::ServerUnaryReactor* AdminService::ListPrimitives(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* raw,
                                                       grpc::ByteBuffer* out) {
  if (grpc::Status allowed = AllowAdmin(*context, "Admin.ListPrimitives"); !allowed.ok()) {
    return new Answered(allowed);
  }
  v1::ListPrimitivesRequest request;
  if (grpc::Status parsed = ParseMessage(*raw, "atomix.v1.Admin/ListPrimitives",
                                         "the request", request,
                                         context);
      !parsed.ok()) {
    return new Answered(parsed);
  }
  v1::ListPrimitivesResponse response;
  const absl::Status listed = broker::ListPrimitives(broker_, request, response);
  return AnswerWith(listed, response, out);
}

}  // namespace atomix::broker
