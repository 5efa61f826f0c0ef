// A minimal Redis (RESP2) client over a loopback TCP socket, for the
// redis-fanout workload: enough to send commands, parse integer, string,
// error and flat array replies (pub/sub pushes), and read them blocking or
// incrementally from a non-blocking socket.
//
// Thread-safety: a RespConn belongs to one thread at a time.
#ifndef ATOMIX_BENCH_RESP_H_
#define ATOMIX_BENCH_RESP_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace atomix::bench {

// One reply. `type` is the RESP type byte ('+', '-', ':', '$', '*'), or '_'
// for a null bulk string. Scalars keep their text in `text`; an array's
// elements (scalars only, at most 4) are items[0..count). Views point into
// the buffer that was parsed.
struct RespReply {
  struct Scalar {
    char type = 0;
    std::string_view text;
  };
  char type = 0;
  std::string_view text;
  std::array<Scalar, 4> items;
  int count = 0;
};

// Parses one reply of `buf` at `pos`: 1 (and advances `pos` past it) if it
// is complete, 0 if more bytes are needed, -1 if it is not RESP this parser
// understands.
int ParseResp(std::string_view buf, size_t& pos, RespReply& out);

class RespConn {
 public:
  // Connects to "host:port" (an IPv4 address), with TCP_NODELAY.
  static absl::StatusOr<RespConn> Dial(const std::string& address);

  RespConn() = default;
  RespConn(RespConn&& other) noexcept;
  RespConn& operator=(RespConn&& other) noexcept;
  RespConn(const RespConn&) = delete;
  RespConn& operator=(const RespConn&) = delete;
  ~RespConn();

  int fd() const { return fd_; }

  // Sends one command (blocking until written).
  absl::Status Send(const std::vector<std::string_view>& args);
  // Blocks until one whole reply has arrived and returns it; the views stay
  // valid until the next call on this connection.
  absl::StatusOr<RespReply> ReadReply();

  // Switches to non-blocking reads. ReadAvailable() then appends what the
  // socket holds; Next() hands out complete replies one by one.
  absl::Status SetNonBlocking();
  // Reads until the socket would block. Fails on EOF or error.
  absl::Status ReadAvailable();
  // The next complete buffered reply: 1 (out set), 0 (none yet), -1 (bad).
  int Next(RespReply& out);
  // Drops the bytes of the replies handed out by Next(); their views end.
  void Compact();

 private:
  explicit RespConn(int fd) : fd_(fd) {}
  absl::Status Fill();  // One blocking read into buf_.

  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;  // Start of the first reply not handed out yet.
};

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_RESP_H_
