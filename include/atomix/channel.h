// Channel<T>: a bounded, thread-safe queue that delivers watch events and
// state notifications from the SDK to the application.
//
//   atomix::Channel<atomix::SessionState> states = client.WatchSessionState();
//
//   // Pull, blocking: ends once the channel is closed and drained.
//   for (atomix::SessionState s : states) { ... }
//
//   // Pull, with a bound:
//   if (auto s = states.Receive(std::chrono::seconds(1))) { ... }
//   if (auto s = states.TryReceive()) { ... }
//
//   // Push: a callback on a thread of its own.
//   atomix::Subscription sub = states.OnReceive([](atomix::SessionState s) { ... });
//   ...
//   sub.Cancel();  // or let `sub` go out of scope; waits for a callback in flight
//
// Producer side. Send() never blocks: when the queue already holds
// capacity() items, the overflow policy picks the item to drop
// (kDropOldest, the default, drops the oldest queued item; kDropNewest drops
// the one being sent) and dropped() counts it. Send() on a closed channel
// drops nothing and returns false, which tells the producer to stop.
//
// Watch channels (atomix/watch.h) never drop: the SDK queues their events
// through an internal producer path that ignores the overflow policy and
// instead stops reading from the broker while the channel is full. Such a
// channel holds at most capacity() items plus the events of one broker
// message (a replay or resync snapshot counts as one message), and dropped()
// stays 0. Closing a watch channel, or dropping its last handle, ends the
// watch.
//
// Consumer side. Receive() blocks until an item arrives or the channel is
// closed and empty (then std::nullopt). Receive(timeout) also returns
// std::nullopt when the timeout passes first; check closed() to tell the two
// apart. Items queued before Close() can still be received afterwards:
// a channel ends when it is closed *and* drained. status() tells why it was
// closed: OK for Close() (or a producer that ended normally), else the error
// that ended the producer (for a watch: an event that could not be decoded,
// the name bound to another type, or CANCELLED "client closed" when the
// Client went away).
//
// Callbacks. OnReceive(cb) starts one dedicated thread for that
// subscription; every call of `cb` runs on it, one at a time, in queue
// order. Items go to exactly one consumer, so mixing Receive() with a
// subscription (or two subscriptions) splits the items between them. A
// callback must not block for long: items arriving meanwhile queue up and,
// past capacity(), are dropped by the overflow policy.
//   - Subscription::Cancel() (and its destructor) stops that subscription and
//     waits for its callback in flight, then joins its thread.
//   - Channel::Close() stops every subscription of the channel: when it
//     returns, no callback of the channel is running or will start; items
//     still queued stay receivable with Receive()/TryReceive().
//   - Called from inside a callback, Close() and Cancel() do not wait (that
//     would wait for themselves): the running callback finishes normally and
//     no further callback starts. Closing channel A from a callback of
//     channel B while a callback of A closes B can deadlock; do not do that.
//
// Thread-safety: Channel is a cheap, copyable handle; all copies share one
// queue. Every method is safe to call from any thread at any time. A
// Subscription is a move-only owner of its thread; use one Subscription
// object from one thread at a time.
#ifndef ATOMIX_CHANNEL_H_
#define ATOMIX_CHANNEL_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "atomix/export.h"

namespace atomix {

template <class T>
class Channel;

namespace internal {

template <class T>
class ChannelWriter;

// Shared by a Subscription and its thread.
struct ATOMIX_EXPORT SubscriptionState {
  bool cancelled = false;      // Guarded by the channel's mutex.
  bool in_callback = false;    // Guarded by the channel's mutex.
  std::thread::id thread_id;   // Guarded by the channel's mutex; set as the thread starts.
};

}  // namespace internal

// A running callback subscription of a Channel (see Channel::OnReceive).
// Move-only. Destroying it cancels it.
class ATOMIX_EXPORT Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& other) noexcept { *this = std::move(other); }
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      Cancel();
      cancel_ = std::move(other.cancel_);
      thread_ = std::move(other.thread_);
      state_ = std::move(other.state_);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { Cancel(); }

  // Stops delivery and waits for a callback in flight (unless called from
  // that callback), then ends the thread. Idempotent.
  void Cancel() {
    if (cancel_) {
      cancel_();  // Marks cancelled and waits for a callback in flight.
      cancel_ = nullptr;
    }
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();  // Inside our own callback: the thread ends after it.
      } else {
        thread_.join();
      }
    }
    state_.reset();
  }

  // Whether the subscription still runs (it stops when cancelled or when
  // its channel closes).
  bool active() const { return thread_.joinable(); }

 private:
  template <class T>
  friend class Channel;

  std::function<void()> cancel_;
  std::thread thread_;
  std::shared_ptr<internal::SubscriptionState> state_;
};

template <class T>
class Channel {
 public:
  enum class Overflow {
    kDropOldest,  // A full queue drops its oldest item to make room.
    kDropNewest,  // A full queue drops the item being sent.
  };

  // A channel that holds up to `capacity` items (at least 1).
  explicit Channel(size_t capacity = 64, Overflow overflow = Overflow::kDropOldest)
      : state_(std::make_shared<State>(std::max<size_t>(1, capacity), overflow)) {}

  // Producer: queues `item` without blocking (see the overflow policy).
  // Returns false if the channel is closed.
  bool Send(T item) {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->closed) return false;
    if (state_->items.size() >= state_->capacity) {
      ++state_->dropped;
      if (state_->overflow == Overflow::kDropNewest) return true;
      state_->items.pop_front();
    }
    state_->items.push_back(std::move(item));
    state_->cv.notify_one();
    return true;
  }

  // Blocks until an item is available (returns it) or the channel is closed
  // and drained (returns std::nullopt).
  std::optional<T> Receive() {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait(lock, [&] { return !state_->items.empty() || state_->closed; });
    return PopAndNotify(lock);
  }

  // As Receive(), but also returns std::nullopt once `timeout` passes.
  std::optional<T> Receive(std::chrono::nanoseconds timeout) {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait_for(lock, timeout, [&] { return !state_->items.empty() || state_->closed; });
    return PopAndNotify(lock);
  }

  // An item if one is queued now, else std::nullopt. Never blocks.
  std::optional<T> TryReceive() {
    std::unique_lock<std::mutex> lock(state_->mu);
    return PopAndNotify(lock);
  }

  // Closes the channel: Send() fails from now on, blocked receivers wake up
  // once the queue is drained, and every subscription stops. Waits for
  // callbacks in flight, except when called from a callback of this channel.
  // A watch channel's watch ends. Idempotent; status() stays OK (or keeps
  // the error of an earlier close).
  void Close() { state_->Close(absl::OkStatus()); }

  bool closed() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->closed;
  }

  // Why the channel was closed: OK while it is open and after Close() or a
  // normal end of its producer; otherwise the producer's error (see above).
  absl::Status status() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->status;
  }

  // Items dropped by the overflow policy so far.
  uint64_t dropped() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->dropped;
  }

  // Items queued now.
  size_t size() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->items.size();
  }

  size_t capacity() const { return state_->capacity; }

  // Runs `callback` for every item, on a dedicated thread, until the
  // returned Subscription is cancelled or destroyed, or the channel closes.
  // With `close_on_cancel`, cancelling the subscription also closes the
  // channel (for channels that only this subscription reads).
  [[nodiscard]] Subscription OnReceive(std::function<void(T)> callback,
                                       bool close_on_cancel = false) {
    auto sub = std::make_shared<internal::SubscriptionState>();
    Subscription out;
    out.state_ = sub;
    std::shared_ptr<State> state = state_;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      state->subscriptions.push_back(sub);
    }
    out.cancel_ = [state, sub, close_on_cancel] {
      state->Cancel(*sub);
      if (close_on_cancel) state->Close(absl::OkStatus());
    };
    out.thread_ = std::thread([state, sub, cb = std::move(callback)] {
      std::unique_lock<std::mutex> lock(state->mu);
      sub->thread_id = std::this_thread::get_id();
      for (;;) {
        state->cv.wait(lock, [&] {
          return !state->items.empty() || state->closed || sub->cancelled;
        });
        if (state->closed || sub->cancelled) break;
        T item = std::move(state->items.front());
        state->items.pop_front();
        std::function<void()> room = state->TakeRoomLocked();
        sub->in_callback = true;
        lock.unlock();
        if (room) room();
        cb(std::move(item));
        lock.lock();
        sub->in_callback = false;
        state->idle_cv.notify_all();
      }
      auto& subs = state->subscriptions;
      subs.erase(std::remove(subs.begin(), subs.end(), sub), subs.end());
      state->idle_cv.notify_all();
    });
    return out;
  }

  // Range-for support: iterates with Receive() until closed and drained.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;

    Iterator() = default;
    explicit Iterator(Channel* channel) : channel_(channel) { ++*this; }
    T& operator*() { return *current_; }
    T* operator->() { return &*current_; }
    Iterator& operator++() {
      current_ = channel_->Receive();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !current_.has_value(); }

   private:
    Channel* channel_ = nullptr;
    std::optional<T> current_;
  };
  Iterator begin() { return Iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  friend class internal::ChannelWriter<T>;

  struct State {
    State(size_t cap, Overflow policy) : capacity(cap), overflow(policy) {}
    // The last handle is gone: a producer that asked to know stops.
    ~State() {
      if (on_close) on_close();
    }

    void Close(absl::Status why) {
      std::function<void()> closed_cb;
      {
        std::unique_lock<std::mutex> lock(mu);
        if (!closed) {
          closed = true;
          status = std::move(why);
          closed_cb = std::exchange(on_close, nullptr);
          on_room = nullptr;
        }
        cv.notify_all();
        const auto me = std::this_thread::get_id();
        bool from_callback = false;
        for (const auto& sub : subscriptions) {
          if (sub->thread_id == me) from_callback = true;  // Never wait for ourselves.
        }
        if (!from_callback) {
          idle_cv.wait(lock, [&] {
            for (const auto& sub : subscriptions) {
              if (sub->in_callback) return false;
            }
            return true;
          });
        }
      }
      if (closed_cb) closed_cb();
    }

    // The producer's room callback, if armed and the queue has room now.
    std::function<void()> TakeRoomLocked() {
      if (!on_room || items.size() >= capacity) return nullptr;
      return std::exchange(on_room, nullptr);
    }

    void Cancel(internal::SubscriptionState& sub) {
      std::unique_lock<std::mutex> lock(mu);
      sub.cancelled = true;
      cv.notify_all();
      if (sub.thread_id == std::this_thread::get_id()) return;
      idle_cv.wait(lock, [&] { return !sub.in_callback; });
    }

    const size_t capacity;
    const Overflow overflow;
    mutable std::mutex mu;
    std::condition_variable cv;       // Items, close, cancel.
    std::condition_variable idle_cv;  // A callback returned.
    std::deque<T> items;
    bool closed = false;
    absl::Status status;
    uint64_t dropped = 0;
    std::vector<std::shared_ptr<internal::SubscriptionState>> subscriptions;
    // Internal producer hooks (internal::ChannelWriter): run once, with no
    // lock held, when an item is taken and leaves room / when the channel
    // closes or its last handle is gone.
    std::function<void()> on_room;
    std::function<void()> on_close;
  };

  // Takes the front item (if any); runs the producer's room callback after
  // releasing `lock` if taking it made room.
  std::optional<T> PopAndNotify(std::unique_lock<std::mutex>& lock) {
    if (state_->items.empty()) return std::nullopt;
    std::optional<T> item(std::move(state_->items.front()));
    state_->items.pop_front();
    std::function<void()> room = state_->TakeRoomLocked();
    lock.unlock();
    if (room) room();
    return item;
  }

  std::shared_ptr<State> state_;
};

namespace internal {

// The SDK's producer side of a watch channel. Not part of the public API.
// Holds the channel weakly: once every Channel handle (and subscription) is
// gone, the channel is gone and OnClose's callback runs.
//
// Thread-safety: every method is safe from any thread. Callbacks run with no
// channel lock held; the caller must not hold a lock that they take.
template <class T>
class ChannelWriter {
 public:
  ChannelWriter() = default;
  explicit ChannelWriter(const Channel<T>& channel) : state_(channel.state_) {}

  // Queues every item in order, past capacity() if need be; never drops.
  // Returns false (and queues nothing) if the channel is closed or gone.
  bool PushAll(std::vector<T> items) {
    std::shared_ptr<State> state = state_.lock();
    if (state == nullptr) return false;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->closed) return false;
      for (T& item : items) state->items.push_back(std::move(item));
      if (!items.empty()) state->cv.notify_all();
    }
    return true;
  }

  // True if fewer than capacity() items are queued, or the channel is
  // closed or gone. Otherwise arms `on_room` to run once on the thread that
  // next takes an item and leaves room, and returns false.
  bool RoomOrNotify(std::function<void()> on_room) {
    std::shared_ptr<State> state = state_.lock();
    if (state == nullptr) return true;
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->closed || state->items.size() < state->capacity) return true;
    state->on_room = std::move(on_room);
    return false;
  }

  // Runs `on_close` once when the channel is closed (by anyone) or its last
  // handle is gone; at once if that already happened.
  void OnClose(std::function<void()> on_close) {
    std::shared_ptr<State> state = state_.lock();
    if (state != nullptr) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!state->closed) {
        state->on_close = std::move(on_close);
        return;
      }
    }
    on_close();
  }

  // Closes the channel with `status` (see Channel::status()); a no-op if it
  // is already closed or gone.
  void Close(absl::Status status) {
    if (std::shared_ptr<State> state = state_.lock()) state->Close(std::move(status));
  }

 private:
  using State = typename Channel<T>::State;
  std::weak_ptr<State> state_;
};

}  // namespace internal

}  // namespace atomix

#endif  // ATOMIX_CHANNEL_H_
