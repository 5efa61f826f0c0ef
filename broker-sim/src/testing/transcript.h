// Transcript: everything an engine emits (watch events, responses, deferred
// requests, completions), as text in order, so that two runs of the same
// input records can be compared byte for byte in replay tests.
//
// Thread-safety: none; one engine feeds one transcript.
#ifndef ATOMIX_BROKER_TESTING_TRANSCRIPT_H_
#define ATOMIX_BROKER_TESTING_TRANSCRIPT_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/engine/engine.h"

namespace atomix::broker::testing {

class Transcript final : public EventSink {
 public:
  void Record(const std::string& name, int64_t revision,
              std::vector<v1::WatchEvent>&& events) override {
    for (const v1::WatchEvent& e : events) {
      absl::StrAppend(&text_, "event ", name, " @", revision, " ",
                      e.ShortDebugString(), "\n");
    }
  }
  // The answers of one applied record.
  void Output(const RecordOutput& out) {
    for (size_t i = 0; i < out.responses.size(); ++i) {
      absl::StrAppend(&text_, "response ", i, " ",
                      out.responses[i].ShortDebugString(), "\n");
    }
    for (size_t i : out.result.deferred) {
      absl::StrAppend(&text_, "deferred ", i, "\n");
    }
    for (const Completion& c : out.result.completions) {
      absl::StrAppend(&text_, "completion ", c.origin, " ",
                      c.response.ShortDebugString(), "\n");
    }
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace atomix::broker::testing

#endif  // ATOMIX_BROKER_TESTING_TRANSCRIPT_H_
