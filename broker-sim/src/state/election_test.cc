// Leader election: candidates in priority order, terms that are the
// revisions of leader changes, and candidacies that end with their session.
// No network.
#include <string>
#include <vector>

#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;

constexpr int kInvalidArgument = 3;
constexpr int kNotFound = 5;
constexpr int kAlreadyExists = 6;
constexpr int kFailedPrecondition = 9;

class BrokerElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = broker_.OpenSession();  // id 1; opening takes no revision
    b_ = broker_.OpenSession();  // 2
  }
  v1::Response Op(const std::string& op, const std::string& id,
                  uint64_t session = 0) {
    return broker_.Apply(v1::ELECTION, "e",
                         "election { " + op + " { candidate_id: \"" + id +
                             "\" } }",
                         session);
  }
  v1::Term Term() {
    return broker_.Apply(v1::ELECTION, "e", "election { get_term {} }")
        .election()
        .term();
  }
  static std::vector<std::string> Candidates(const v1::Term& term) {
    return {term.candidates().begin(), term.candidates().end()};
  }

  BrokerDriver broker_;
  uint64_t a_ = 0, b_ = 0;
};

using Ids = std::vector<std::string>;

TEST_F(BrokerElectionTest, TheFirstCandidateLeadsAndTheTermIsItsRevision) {
  v1::Term term = Term();
  EXPECT_EQ(term.leader(), "");
  EXPECT_EQ(term.term(), 0);

  v1::Response r = Op("enter", "x", a_);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_TRUE(r.election().changed());
  EXPECT_EQ(r.revision(), 1);
  EXPECT_EQ(r.election().term().leader(), "x");
  EXPECT_EQ(r.election().term().term(), 1);

  r = Op("enter", "y", b_);
  EXPECT_EQ(r.revision(), 2);
  EXPECT_EQ(r.election().term().leader(), "x");
  EXPECT_EQ(r.election().term().term(), 1);  // same leader, same term
  EXPECT_EQ(Candidates(r.election().term()), (Ids{"x", "y"}));

  // Entering again from the same session changes nothing.
  r = Op("enter", "x", a_);
  EXPECT_FALSE(r.has_error());
  EXPECT_FALSE(r.election().changed());
  EXPECT_EQ(r.revision(), 2);
  // Another session cannot take the id.
  r = Op("enter", "x", b_);
  EXPECT_EQ(r.error().code(), kAlreadyExists);
  EXPECT_EQ(r.error().message(),
            "election \"e\" candidate \"x\" belongs to session 1");
}

TEST_F(BrokerElectionTest, AnointPromoteDemoteEvict) {
  Op("enter", "x", a_);  // 1
  Op("enter", "y", b_);  // 2
  Op("enter", "z", b_);  // 3
  // Promote moves z just behind the leader; leadership stays.
  v1::Response r = Op("promote", "z");
  EXPECT_EQ(r.revision(), 4);
  EXPECT_EQ(Candidates(r.election().term()), (Ids{"x", "z", "y"}));
  EXPECT_EQ(r.election().term().term(), 1);
  // Promoting the one already there, or the leader, changes nothing.
  EXPECT_FALSE(Op("promote", "z").election().changed());
  EXPECT_FALSE(Op("promote", "x").election().changed());
  // Anoint makes y the leader: new term.
  r = Op("anoint", "y");
  EXPECT_EQ(r.revision(), 5);
  EXPECT_EQ(Candidates(r.election().term()), (Ids{"y", "x", "z"}));
  EXPECT_EQ(r.election().term().leader(), "y");
  EXPECT_EQ(r.election().term().term(), 5);
  EXPECT_FALSE(Op("anoint", "y").election().changed());
  // Demoting the leader hands leadership to the next.
  r = Op("demote", "y");
  EXPECT_EQ(Candidates(r.election().term()), (Ids{"x", "z", "y"}));
  EXPECT_EQ(r.election().term().term(), 6);
  EXPECT_FALSE(Op("demote", "y").election().changed());
  // Evict removes any session's candidate.
  r = Op("evict", "x");
  EXPECT_EQ(Candidates(r.election().term()), (Ids{"z", "y"}));
  EXPECT_EQ(r.election().term().leader(), "z");
  EXPECT_EQ(r.election().term().term(), 7);
  r = Op("evict", "x");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(r.error().message(),
            "election \"e\" candidate \"x\" is not a candidate");
  EXPECT_EQ(broker_.revision(), 7);
}

TEST_F(BrokerElectionTest, LeaveChecksTheOwner) {
  Op("enter", "x", a_);
  Op("enter", "y", b_);
  v1::Response r = Op("leave", "x", b_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "election \"e\" candidate \"x\" belongs to session 1, not 2");
  EXPECT_EQ(Op("leave", "q", b_).error().code(), kNotFound);
  r = Op("leave", "x", a_);
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.election().term().leader(), "y");
  EXPECT_EQ(r.election().term().term(), 3);
  // The last one leaving leaves no leader: that is a change of leader too.
  r = Op("leave", "y", b_);
  EXPECT_EQ(r.election().term().leader(), "");
  EXPECT_EQ(r.election().term().term(), 4);
}

TEST_F(BrokerElectionTest, ALeaderWhoseSessionEndsIsReplaced) {
  Op("enter", "x", a_);  // 1
  Op("enter", "y", b_);  // 2
  Op("enter", "w", a_);  // 3
  broker_.Session("close {}", a_);  // 4
  v1::Term term = Term();
  EXPECT_EQ(term.leader(), "y");
  EXPECT_EQ(term.term(), 4);
  EXPECT_EQ(Candidates(term), (Ids{"y"}));
  // A non-leader's session ending keeps the term.
  const uint64_t c = broker_.OpenSession(1000);
  Op("enter", "v", c);                            // 5
  broker_.Advance(absl::Seconds(1));              // 6
  term = Term();
  EXPECT_EQ(Candidates(term), (Ids{"y"}));
  EXPECT_EQ(term.term(), 4);
  EXPECT_EQ(broker_.revision(), 6);
}

TEST_F(BrokerElectionTest, BadInput) {
  EXPECT_EQ(Op("enter", "x").error().code(), kInvalidArgument);
  EXPECT_EQ(Op("enter", "x").error().message(), "election enter needs a session");
  EXPECT_EQ(Op("leave", "x").error().code(), kInvalidArgument);
  EXPECT_EQ(Op("enter", "", a_).error().message(), "candidate_id is empty");
  EXPECT_EQ(Op("anoint", "").error().code(), kInvalidArgument);
  EXPECT_EQ(broker_.Apply(v1::ELECTION, "e", "election {}").error().message(),
            "election request has no operation");
  EXPECT_EQ(broker_.Apply(v1::ELECTION, "e", "lock { get {} }").error().message(),
            "type is ELECTION but the operation is for a lock");
  EXPECT_EQ(broker_.revision(), 0);
}

TEST_F(BrokerElectionTest, DescribeShowsTheLeaderAndTheOtherCandidates) {
  using testing::Holdings;
  Op("enter", "x", a_);  // 1: term 1
  Op("enter", "y", b_);  // 2
  Op("enter", "z", a_);  // 3
  v1::PrimitiveInfo info = broker_.Describe("e");
  EXPECT_EQ(info.summary(), "leader x (term 1), 3 candidates");
  EXPECT_EQ(Holdings(info.holders()), (Ids{"1 | leader x | 1"}));
  EXPECT_EQ(Holdings(info.waiters()), (Ids{"2 | candidate y | 0", "1 | candidate z | 0"}));

  broker_.Session("close {}", a_);  // 4: y leads alone
  info = broker_.Describe("e");
  EXPECT_EQ(info.summary(), "leader y (term 4), 1 candidate");
  EXPECT_EQ(Holdings(info.holders()), (Ids{"2 | leader y | 4"}));
  EXPECT_EQ(info.waiters_size(), 0);

  Op("leave", "y", b_);  // 5
  info = broker_.Describe("e");
  EXPECT_EQ(info.summary(), "no leader (term 5)");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(info.waiters_size(), 0);
}

TEST_F(BrokerElectionTest, DescribeEscapesIdsAndListsAtMostAHundredCandidates) {
  const std::string long_id(300, 'n');
  broker_.Apply(v1::ELECTION, "e",
                R"pb(election { enter { candidate_id: "n\x01\"" } })pb", a_);
  broker_.Apply(v1::ELECTION, "e",
                "election { enter { candidate_id: \"" + long_id + "\" } }", a_);
  for (int i = 0; i < 150; ++i) Op("enter", "c" + std::to_string(i), b_);
  const v1::PrimitiveInfo info = broker_.Describe("e");
  EXPECT_EQ(info.summary(), "leader n\\x01\\\" (term 1), 152 candidates");
  EXPECT_EQ(testing::Holdings(info.holders()), (Ids{"1 | leader n\\x01\\\" | 1"}));
  ASSERT_EQ(info.waiters_size(), kMaxDescribed);
  EXPECT_EQ(info.waiters(0).what(), "candidate " + std::string(197, 'n') + "...");
  EXPECT_EQ(info.waiters(1).what(), "candidate c0");
  EXPECT_EQ(info.waiters(99).what(), "candidate c98");
}

}  // namespace
}  // namespace atomix::broker
