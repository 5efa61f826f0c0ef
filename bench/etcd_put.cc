// etcd Put load over a generic gRPC stub.
#include "bench/etcd_put.h"

#include <future>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"

namespace atomix::bench {
namespace {

// Appends a length-delimited protobuf field.
void AppendBytesField(std::string& out, int field, const std::string& bytes) {
  out.push_back(static_cast<char>((field << 3) | 2));
  uint64_t n = bytes.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  out += bytes;
}

class EtcdPut : public Workload {
 public:
  explicit EtcdPut(const std::string& endpoint)
      : stub_(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials())) {}

  absl::Status Op(int caller, int64_t i) override {
    std::string request;
    AppendBytesField(request, 1, absl::StrCat("c", caller, "/k", i % 1000));  // key
    AppendBytesField(request, 2, value_);                                     // value
    grpc::Slice slice(request);
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    std::promise<grpc::Status> done;
    stub_.UnaryCall(&context, "/etcdserverpb.KV/Put", grpc::StubOptions(), &in, &out,
                    [&done](grpc::Status s) { done.set_value(std::move(s)); });
    const grpc::Status status = done.get_future().get();
    if (status.ok()) return absl::OkStatus();
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }

 private:
  grpc::GenericStub stub_;
  const std::string value_ = std::string(100, 'v');
};

}  // namespace

std::unique_ptr<Workload> MakeEtcdPut(const std::string& endpoint) {
  return std::make_unique<EtcdPut>(endpoint);
}

}  // namespace atomix::bench
