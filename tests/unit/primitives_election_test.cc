// Election over an in-process broker, with one fake core (one session) per
// client.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atomix/counter.h"
#include "atomix/election.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using testing::FakeBroker;
using testing::FakeClientCore;
using Ids = std::vector<std::string>;

class ElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* core : {&a_, &b_, &c_}) {
      *core = std::make_shared<FakeClientCore>(broker_);
      ASSERT_OK((*core)->session_status());
    }
  }

  Election Open(const std::shared_ptr<FakeClientCore>& core, const std::string& id) {
    auto e = internal::GetElection(core, "scheduler", WithCandidateID(id));
    EXPECT_OK(e);
    return *std::move(e);
  }

  std::shared_ptr<FakeBroker> broker_ = std::make_shared<FakeBroker>();
  std::shared_ptr<FakeClientCore> a_, b_, c_;
};

TEST_F(ElectionTest, DefaultCandidateIdComesFromTheSession) {
  ASSERT_OK_AND_ASSIGN(Election e, internal::GetElection(a_, "scheduler"));
  EXPECT_EQ(a_->calls().front().request.type(), v1::ELECTION);
  const std::string id = absl::StrCat("session-", a_->session_id());
  EXPECT_EQ(e.ID(), id);
  ASSERT_OK_AND_ASSIGN(Term t, e.Enter());
  EXPECT_EQ(t.leader, id);
  EXPECT_EQ(t.term, a_->revision());
  EXPECT_EQ(t.candidates, Ids{id});
  const v1::Request sent = a_->calls().back().request;
  EXPECT_EQ(sent.election().enter().candidate_id(), id);
  EXPECT_EQ(sent.session_id(), a_->session_id());
  EXPECT_GT(sent.sequence(), 0u);

  // After the session is replaced, the handle enters under the new one.
  broker_->Advance(absl::Seconds(11));
  ASSERT_OK(a_->ReplaceSession());
  EXPECT_EQ(e.ID(), absl::StrCat("session-", a_->session_id()));
  EXPECT_NE(e.ID(), id);
}

TEST_F(ElectionTest, TermRisesWhenTheLeaderChanges) {
  Election ea = Open(a_, "node-a"), eb = Open(b_, "node-b");
  EXPECT_EQ(ea.ID(), "node-a");
  ASSERT_OK_AND_ASSIGN(Term empty, ea.GetTerm());
  EXPECT_EQ(empty, Term{});

  ASSERT_OK_AND_ASSIGN(Term t1, ea.Enter());
  EXPECT_EQ(t1.leader, "node-a");
  EXPECT_EQ(t1.term, a_->revision());

  ASSERT_OK_AND_ASSIGN(Term t2, eb.Enter());
  EXPECT_EQ(t2.leader, "node-a");
  EXPECT_EQ(t2.term, t1.term);  // same leader, same term
  EXPECT_EQ(t2.candidates, (Ids{"node-a", "node-b"}));

  ASSERT_OK_AND_ASSIGN(Term again, ea.Enter());  // entering twice changes nothing
  EXPECT_EQ(again, t2);

  ASSERT_OK_AND_ASSIGN(Term t3, ea.Leave());
  EXPECT_EQ(t3.leader, "node-b");
  EXPECT_EQ(t3.term, a_->revision());
  EXPECT_GT(t3.term, t1.term);
  EXPECT_EQ(t3.candidates, Ids{"node-b"});

  ASSERT_OK_AND_ASSIGN(Term t4, eb.Leave());
  EXPECT_EQ(t4.leader, "");
  EXPECT_GT(t4.term, t3.term);  // "no leader" is a change too
  EXPECT_TRUE(t4.candidates.empty());
  ASSERT_OK_AND_ASSIGN(Term read, eb.GetTerm());
  EXPECT_EQ(read, t4);
  EXPECT_TRUE(b_->calls().back().idempotent);
}

TEST_F(ElectionTest, PromoteDemoteAnointAndEvictReorderCandidates) {
  Election ea = Open(a_, "a"), eb = Open(b_, "b"), ec = Open(c_, "c");
  ASSERT_OK(ea.Enter());
  ASSERT_OK(eb.Enter());
  ASSERT_OK_AND_ASSIGN(Term t, ec.Enter());
  EXPECT_EQ(t.candidates, (Ids{"a", "b", "c"}));
  const Version first = t.term;

  ASSERT_OK_AND_ASSIGN(t, ea.Promote("c"));
  EXPECT_EQ(t.candidates, (Ids{"a", "c", "b"}));
  EXPECT_EQ(t.leader, "a");
  EXPECT_EQ(t.term, first);  // leadership did not change

  ASSERT_OK_AND_ASSIGN(t, eb.Demote("a"));
  EXPECT_EQ(t.candidates, (Ids{"c", "b", "a"}));
  EXPECT_EQ(t.leader, "c");
  EXPECT_EQ(t.term, b_->revision());
  const Version second = t.term;
  EXPECT_GT(second, first);

  ASSERT_OK_AND_ASSIGN(t, ec.Anoint("a"));
  EXPECT_EQ(t.candidates, (Ids{"a", "c", "b"}));
  EXPECT_EQ(t.leader, "a");
  EXPECT_GT(t.term, second);

  ASSERT_OK_AND_ASSIGN(t, ea.Evict("c"));  // c belongs to another session
  EXPECT_EQ(t.candidates, (Ids{"a", "b"}));
  EXPECT_EQ(a_->calls().back().request.election().evict().candidate_id(), "c");
}

TEST_F(ElectionTest, SessionEndWithdrawsItsCandidacies) {
  Election ea = Open(a_, "a"), eb = Open(b_, "b");
  ASSERT_OK_AND_ASSIGN(Term t1, ea.Enter());
  ASSERT_OK(eb.Enter());
  ASSERT_OK(a_->CloseSession());
  const int64_t closed_at = a_->revision();
  ASSERT_OK_AND_ASSIGN(Term t2, eb.GetTerm());
  EXPECT_EQ(t2.leader, "b");
  EXPECT_EQ(t2.candidates, Ids{"b"});
  EXPECT_EQ(t2.term, closed_at);
  EXPECT_GT(t2.term, t1.term);
}

TEST_F(ElectionTest, ErrorsForIdsAndOwnership) {
  Election ea = Open(a_, "same"), eb = Open(b_, "same");
  ASSERT_OK(ea.Enter());
  EXPECT_CODE(eb.Enter(), kAlreadyExists);
  EXPECT_CODE(eb.Leave(), kFailedPrecondition);
  EXPECT_CODE(ea.Promote("nobody"), kNotFound);
  EXPECT_CODE(ea.Anoint(""), kInvalidArgument);
  EXPECT_CODE(ea.Evict(""), kInvalidArgument);
  ASSERT_OK(ea.Leave());
  EXPECT_CODE(ea.Leave(), kNotFound);
}

TEST_F(ElectionTest, OpenChecksNameAndType) {
  EXPECT_CODE(internal::GetElection(a_, ""), kInvalidArgument);
  ASSERT_OK(internal::GetCounter(a_, "jobs"));
  EXPECT_CODE(internal::GetElection(a_, "jobs"), kFailedPrecondition);
}

TEST(ElectionWithoutSessionTest, DefaultIdNeedsASession) {
  auto core = FakeClientCore::Sessionless();
  ASSERT_OK_AND_ASSIGN(Election e, internal::GetElection(core, "scheduler"));
  EXPECT_EQ(e.ID(), "");
  EXPECT_CODE(e.Enter(), kUnavailable);
  // A given id needs no session to be named, but the broker wants one.
  ASSERT_OK_AND_ASSIGN(Election named,
                       internal::GetElection(core, "scheduler", WithCandidateID("n")));
  EXPECT_EQ(named.ID(), "n");
  EXPECT_CODE(named.Enter(), kInvalidArgument);
}

}  // namespace
}  // namespace atomix
