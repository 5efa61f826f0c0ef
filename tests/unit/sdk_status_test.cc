// CurrentVersion and the internal error conversions.
#include "atomix/status.h"
#include "gtest/gtest.h"
#include "sdk/src/endpoints.h"
#include "sdk/src/status_convert.h"

namespace atomix {
namespace {

TEST(CurrentVersion, ReadsTheDecimalPayload) {
  absl::Status s = absl::FailedPreconditionError("version mismatch");
  EXPECT_EQ(CurrentVersion(s), std::nullopt);
  s.SetPayload(kCurrentPayloadUrl, absl::Cord("-17"));
  EXPECT_EQ(CurrentVersion(s), -17);
  s.SetPayload(kCurrentPayloadUrl, absl::Cord("9223372036854775807"));
  EXPECT_EQ(CurrentVersion(s), INT64_MAX);
}

TEST(CurrentVersion, AbsentOrMalformed) {
  EXPECT_EQ(CurrentVersion(absl::OkStatus()), std::nullopt);
  absl::Status s = absl::FailedPreconditionError("x");
  s.SetPayload(kCurrentPayloadUrl, absl::Cord("seven"));
  EXPECT_EQ(CurrentVersion(s), std::nullopt);
}

TEST(StatusConvert, ProtoErrorKeepsCodeMessageAndCurrent) {
  v1::Error e;
  e.set_code(9);
  e.set_message("version mismatch");
  e.set_current(12);
  absl::Status s = internal::FromProtoError(e);
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_EQ(s.message(), "version mismatch");
  EXPECT_EQ(CurrentVersion(s), 12);

  v1::Error no_current;
  no_current.set_code(5);
  EXPECT_TRUE(absl::IsNotFound(internal::FromProtoError(no_current)));
  EXPECT_EQ(CurrentVersion(internal::FromProtoError(no_current)), std::nullopt);
}

TEST(StatusConvert, BadCodesNeverLookLikeSuccess) {
  v1::Error ok_code;
  ok_code.set_message("odd");
  EXPECT_EQ(internal::FromProtoError(ok_code).code(), absl::StatusCode::kUnknown);
  v1::Error huge;
  huge.set_code(1000);
  EXPECT_EQ(internal::FromProtoError(huge).code(), absl::StatusCode::kUnknown);
}

TEST(StatusConvert, Response) {
  v1::Response ok;
  ok.set_id(3);
  ok.mutable_counter()->set_value(5);
  absl::StatusOr<v1::Response> r = internal::FromResponse(ok);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->counter().value(), 5);
  v1::Response bad;
  bad.mutable_error()->set_code(11);
  EXPECT_TRUE(absl::IsOutOfRange(internal::FromResponse(bad).status()));
}

TEST(StatusConvert, GrpcRoundTripForEveryCode) {
  for (int c = 0; c <= 16; ++c) {
    absl::Status a(static_cast<absl::StatusCode>(c), c == 0 ? "" : "msg");
    grpc::Status g = internal::ToGrpcStatus(a);
    EXPECT_EQ(static_cast<int>(g.error_code()), c);
    EXPECT_EQ(internal::FromGrpcStatus(g), a);
  }
}

TEST(Endpoints, SplitAndResolve) {
  EXPECT_EQ(internal::SplitEndpoints(" a:1, ,b:2 ,"), (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(internal::ResolveEndpoints({"x:1"}), std::vector<std::string>{"x:1"});
  setenv("ATOMIX_BROKER", "h1:5, h2:6", 1);
  EXPECT_EQ(internal::ResolveEndpoints({}), (std::vector<std::string>{"h1:5", "h2:6"}));
  setenv("ATOMIX_BROKER", " , ", 1);
  EXPECT_EQ(internal::ResolveEndpoints({}), std::vector<std::string>{"127.0.0.1:5679"});
  unsetenv("ATOMIX_BROKER");
  EXPECT_EQ(internal::ResolveEndpoints({}), std::vector<std::string>{"127.0.0.1:5679"});
}

TEST(Endpoints, UnavailableErrorNamesThem) {
  absl::Status one = internal::UnavailableError({"127.0.0.1:5679"}, "refused");
  EXPECT_TRUE(absl::IsUnavailable(one));
  EXPECT_EQ(one.message(), "broker 127.0.0.1:5679 unavailable: refused");
  EXPECT_EQ(internal::UnavailableError({"a:1", "b:2"}, "x").message(),
            "brokers a:1, b:2 unavailable: x");
}

}  // namespace
}  // namespace atomix
