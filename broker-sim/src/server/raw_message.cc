// Parsing and serializing raw gRPC messages.
#include "broker-sim/src/server/raw_message.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"

namespace atomix::broker {

grpc::Status ParseMessage(const grpc::ByteBuffer& buffer, absl::string_view method,
                          absl::string_view what, google::protobuf::Message& message,
                          const grpc::ServerContextBase* context) {
  auto invalid = [&](absl::string_view why) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat(method, ": ", what, " is not a valid ",
                     message.GetDescriptor()->full_name(), ": ", why));
  };
  if (context != nullptr) {
    const auto& metadata = context->client_metadata();
    if (auto it = metadata.find("grpc-encoding");
        it != metadata.end() && it->second != "identity") {
      return invalid(absl::StrCat(
          "it is compressed (grpc-encoding ",
          absl::string_view(it->second.data(), it->second.size()),
          ", ", buffer.Length(),
          " bytes) and this broker does not inflate messages; send it"
          " uncompressed"));
    }
  }
  std::vector<grpc::Slice> slices;
  if (!buffer.Valid()) return invalid("no message bytes arrived");
  if (grpc::Status dumped = buffer.Dump(&slices); !dumped.ok()) {
    return invalid(absl::StrCat("its bytes cannot be read (",
                                dumped.error_message(), ")"));
  }
  std::string bytes;
  bytes.reserve(buffer.Length());
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  slices.clear();
  if (!message.ParseFromString(bytes)) {
    const auto b = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
    const char* format = nullptr;
    if (bytes.size() >= 3 && b(0) == 0x1f && b(1) == 0x8b && b(2) == 0x08) {
      format = "gzip";
    } else if (bytes.size() >= 2 && (b(0) & 0x0f) == 8 &&
               ((b(0) << 8) | b(1)) % 31 == 0) {
      format = "zlib (deflate)";
    }
    if (format != nullptr) {
      return invalid(absl::StrCat(
          "its ", bytes.size(), " bytes begin with a ", format,
          " header: a compressed message, and this broker does not inflate"
          " messages; send it uncompressed"));
    }
    return invalid(absl::StrCat("its ", bytes.size(),
                                " bytes are not a well-formed protobuf encoding"
                                " of that message (a truncated or corrupt"
                                " field, a wrong wire type, or bytes of"
                                " another format)"));
  }
  return grpc::Status::OK;
}

grpc::ByteBuffer SerializeMessage(const google::protobuf::Message& message) {
  std::string bytes = message.SerializeAsString();
  grpc::Slice slice(std::move(bytes));
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace atomix::broker
