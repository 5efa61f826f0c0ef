// The etcd client's pure helpers: prefix ranges and how etcd's errors are
// reported (no etcd needed).
#include <gtest/gtest.h>

#include <string>

#include "broker-sim/src/etcd/etcd_client.h"

namespace atomix::broker {
namespace {

TEST(EtcdPrefixEnd, IsTheFirstKeyAfterEveryKeyWithThePrefix) {
  EXPECT_EQ(PrefixEnd("/atomix/a/"), "/atomix/a0");
  EXPECT_EQ(PrefixEnd("ab\xff"), "ac");
  EXPECT_EQ(PrefixEnd("\xff\xff"), std::string(1, '\0'));  // every key
  EXPECT_LT(std::string("/atomix/a/zzz"), PrefixEnd("/atomix/a/"));
  EXPECT_GT(std::string("/atomix/b"), PrefixEnd("/atomix/a/"));
}

TEST(EtcdError, NamesEtcdAndMapsTheCauses) {
  absl::Status nospace = EtcdError(
      "127.0.0.1:2379", grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                     "etcdserver: mvcc: database space exceeded"));
  EXPECT_TRUE(absl::IsResourceExhausted(nospace)) << nospace;
  EXPECT_NE(nospace.message().find("NOSPACE"), std::string::npos);
  EXPECT_NE(nospace.message().find("127.0.0.1:2379"), std::string::npos);

  absl::Status large = EtcdError(
      "e", grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: request is too large"));
  EXPECT_TRUE(absl::IsInvalidArgument(large)) << large;
  EXPECT_NE(large.message().find("--max-request-bytes"), std::string::npos);

  absl::Status gone = EtcdError(
      "e", grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "context deadline exceeded"));
  EXPECT_TRUE(absl::IsUnavailable(gone)) << gone;
  EXPECT_NE(gone.message().find("quorum"), std::string::npos);

  absl::Status compacted = EtcdError(
      "e", grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                        "etcdserver: mvcc: required revision has been compacted"));
  EXPECT_TRUE(absl::IsOutOfRange(compacted)) << compacted;
}

}  // namespace
}  // namespace atomix::broker
