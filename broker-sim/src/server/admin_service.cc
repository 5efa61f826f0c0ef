// Admin service: backups and status.
#include "broker-sim/src/server/admin_service.h"

#include <algorithm>
#include <string>

#include "broker-sim/src/disk/snapshot_file.h"
#include "broker-sim/src/server/grpc_status.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

}  // namespace

grpc::Status AdminService::AllowAdmin(const grpc::ServerContext& context,
                                      std::string_view call) const {
  absl::StatusOr<std::string> principal = authenticator_->Authenticate(context);
  if (!principal.ok()) return ToGrpc(principal.status());
  return ToGrpc(broker_.AuthorizeAdmin(*principal, call));
}

grpc::Status AdminService::Backup(grpc::ServerContext* context, const v1::BackupRequest*,
                                  grpc::ServerWriter<v1::BackupChunk>* writer) {
  if (grpc::Status allowed = AllowAdmin(*context, "Admin.Backup"); !allowed.ok()) {
    return allowed;
  }
  atomix::log::v1::EngineSnapshot snapshot;
  if (absl::Status taken = broker_.store().Backup(snapshot); !taken.ok()) {
    return ToGrpc(taken);
  }
  const std::string file = EncodeSnapshot(snapshot);
  spdlog::info("backup at revision {} ({} bytes) for {}", snapshot.revision(), file.size(),
               context->peer());
  size_t offset = 0;
  do {
    v1::BackupChunk chunk;
    if (offset == 0) {
      chunk.set_revision(snapshot.revision());
      chunk.set_total_bytes(file.size());
    }
    const size_t n = std::min(kChunkBytes, file.size() - offset);
    chunk.set_data(file.substr(offset, n));
    offset += n;
    if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  } while (offset < file.size());
  return grpc::Status::OK;
}

grpc::Status AdminService::Status(grpc::ServerContext*, const v1::StatusRequest*,
                                  v1::StatusResponse* out) {
  *out = DescribeBroker(broker_, process_);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListSessions(grpc::ServerContext* context,
                                        const v1::ListSessionsRequest* request,
                                        v1::ListSessionsResponse* out) {
  if (grpc::Status allowed = AllowAdmin(*context, "Admin.ListSessions"); !allowed.ok()) {
    return allowed;
  }
  const absl::Status listed = broker::ListSessions(broker_, *request, *out);
  return ToGrpc(listed);
}

grpc::Status AdminService::ListPrimitives(grpc::ServerContext* context,
                                          const v1::ListPrimitivesRequest* request,
                                          v1::ListPrimitivesResponse* out) {
  if (grpc::Status allowed = AllowAdmin(*context, "Admin.ListPrimitives"); !allowed.ok()) {
    return allowed;
  }
  const absl::Status listed = broker::ListPrimitives(broker_, *request, *out);
  return ToGrpc(listed);
}

}  // namespace atomix::broker
