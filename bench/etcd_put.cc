// etcd Put and Range load over a generic gRPC stub.
#include "bench/etcd_put.h"

#include <future>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"

namespace atomix::bench {
namespace {

constexpr char kPut[] = "/etcdserverpb.KV/Put";
constexpr char kRange[] = "/etcdserverpb.KV/Range";

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

std::string PutRequest(const std::string& key, const std::string& value) {
  std::string request;
  AppendBytesField(request, 1, key);
  AppendBytesField(request, 2, value);
  return request;
}

std::string RangeRequest(const std::string& key) {
  std::string request;
  AppendBytesField(request, 1, key);
  return request;
}

// One unary call on etcd's KV service; the response is dropped.
class EtcdKv : public Workload {
 public:
  explicit EtcdKv(const std::string& endpoint)
      : stub_(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials())) {}

 protected:
  absl::Status Call(const char* method, const std::string& request) {
    grpc::Slice slice(request);
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    std::promise<grpc::Status> done;
    stub_.UnaryCall(&context, method, grpc::StubOptions(), &in, &out,
                    [&done](grpc::Status s) { done.set_value(std::move(s)); });
    const grpc::Status status = done.get_future().get();
    if (status.ok()) return absl::OkStatus();
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }

 private:
  grpc::GenericStub stub_;
};

class EtcdPut : public EtcdKv {
 public:
  using EtcdKv::EtcdKv;
  absl::Status Op(int caller, int64_t i) override {
    return Call(kPut, PutRequest(absl::StrCat("c", caller, "/k", i % 1000), value_));
  }

 private:
  const std::string value_ = std::string(100, 'v');
};

class EtcdGet : public EtcdKv {
 public:
  using EtcdKv::EtcdKv;
  absl::Status Write(int value_bytes) {
    return Call(kPut, PutRequest(kKey, std::string(static_cast<size_t>(value_bytes), 'v')));
  }
  absl::Status Op(int, int64_t) override { return Call(kRange, request_); }

 private:
  static constexpr char kKey[] = "bench/get";
  const std::string request_ = RangeRequest(kKey);
};

}  // namespace

std::unique_ptr<Workload> MakeEtcdPut(const std::string& endpoint) {
  return std::make_unique<EtcdPut>(endpoint);
}

absl::StatusOr<std::unique_ptr<Workload>> MakeEtcdGet(const std::string& endpoint,
                                                      int value_bytes) {
  auto get = std::make_unique<EtcdGet>(endpoint);
  if (absl::Status s = get->Write(value_bytes); !s.ok()) return s;
  return std::unique_ptr<Workload>(std::move(get));
}

}  // namespace atomix::bench
