// Parsing and serializing raw gRPC messages.
#include "broker-sim/src/server/raw_message.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"

namespace atomix::broker {

grpc::Status ParseMessage(const grpc::ByteBuffer& buffer, absl::string_view method,
                          absl::string_view what, google::protobuf::Message& message) {
  auto invalid = [&](absl::string_view why) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat(method, ": ", what, " is not a valid ",
                     message.GetDescriptor()->full_name(), ": ", why));
  };
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
