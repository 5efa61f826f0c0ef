// StreamRange<T>: a pull stream of absl::StatusOr<T>, fetched page by page.
//
//   for (const absl::StatusOr<atomix::Entry<std::string, int64_t>>& e : map.Entries()) {
//     if (!e.ok()) { handle(e.status()); break; }   // the range ends after an error
//     use(e->key, e->value, e->version);
//   }
//
// Listing a primitive of any size holds one page in memory at a time. Each
// page is one linearizable read; the pages together are not one snapshot: an
// entry written during the listing may or may not appear, but no entry that
// existed for the whole listing is skipped or repeated.
//
// Thread-safety: a range and its iterators belong to one thread.
#ifndef ATOMIX_STREAM_RANGE_H_
#define ATOMIX_STREAM_RANGE_H_

#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atomix {

template <class T>
class StreamRange {
 public:
  // Fills `page` with the next items and sets `more` when further pages
  // follow. Called again only while `more` was set.
  using Fetch = std::function<absl::Status(std::vector<T>& page, bool& more)>;

  explicit StreamRange(Fetch fetch) : fetch_(std::move(fetch)) {}

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = absl::StatusOr<T>;
    using difference_type = std::ptrdiff_t;
    using pointer = value_type*;
    using reference = value_type&;

    iterator() = default;
    reference operator*() const { return *range_->current_; }
    pointer operator->() const { return &*range_->current_; }
    iterator& operator++() {
      range_->Advance();
      return *this;
    }
    void operator++(int) { range_->Advance(); }
    friend bool operator==(const iterator& a, const iterator& b) {
      return a.at_end() == b.at_end();
    }

   private:
    friend class StreamRange;
    explicit iterator(StreamRange* r) : range_(r) {}
    bool at_end() const { return range_ == nullptr || !range_->current_.has_value(); }
    StreamRange* range_ = nullptr;
  };

  iterator begin() {
    if (!started_) {
      started_ = true;
      Advance();
    }
    return iterator(this);
  }
  iterator end() { return iterator(); }

 private:
  void Advance() {
    current_.reset();
    if (failed_) return;
    while (next_ >= page_.size()) {
      if (!more_) return;
      page_.clear();
      next_ = 0;
      more_ = false;
      absl::Status s = fetch_(page_, more_);
      if (!s.ok()) {
        failed_ = true;
        current_.emplace(std::move(s));
        return;
      }
    }
    current_.emplace(std::move(page_[next_++]));
  }

  Fetch fetch_;
  std::vector<T> page_;
  size_t next_ = 0;
  bool more_ = true;
  bool started_ = false;
  bool failed_ = false;
  std::optional<absl::StatusOr<T>> current_;
};

}  // namespace atomix

#endif  // ATOMIX_STREAM_RANGE_H_
