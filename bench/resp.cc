#include "bench/resp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace atomix::bench {
namespace {

// Where the CRLF ending the line at `pos` starts; npos if it has not arrived.
size_t LineEnd(std::string_view buf, size_t pos) { return buf.find("\r\n", pos); }

int ParseScalar(std::string_view buf, size_t& pos, RespReply::Scalar& out) {
  if (pos >= buf.size()) return 0;
  size_t cr = LineEnd(buf, pos);
  if (cr == std::string_view::npos) return 0;
  char type = buf[pos];
  std::string_view line = buf.substr(pos + 1, cr - pos - 1);
  switch (type) {
    case '+':
    case '-':
    case ':':
      out.type = type;
      out.text = line;
      pos = cr + 2;
      return 1;
    case '$': {
      int64_t len = 0;
      auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), len);
      if (ec != std::errc() || ptr != line.data() + line.size()) return -1;
      if (len < 0) {
        out.type = '_';
        out.text = {};
        pos = cr + 2;
        return 1;
      }
      size_t body = cr + 2;
      if (buf.size() < body + static_cast<size_t>(len) + 2) return 0;
      out.type = '$';
      out.text = buf.substr(body, static_cast<size_t>(len));
      pos = body + static_cast<size_t>(len) + 2;
      return 1;
    }
    default:
      return -1;
  }
}

}  // namespace

int ParseResp(std::string_view buf, size_t& pos, RespReply& out) {
  if (pos >= buf.size()) return 0;
  if (buf[pos] != '*') {
    RespReply::Scalar s;
    size_t p = pos;
    int r = ParseScalar(buf, p, s);
    if (r != 1) return r;
    out.type = s.type;
    out.text = s.text;
    out.count = 0;
    pos = p;
    return 1;
  }
  size_t cr = LineEnd(buf, pos);
  if (cr == std::string_view::npos) return 0;
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(buf.data() + pos + 1, buf.data() + cr, n);
  if (ec != std::errc() || ptr != buf.data() + cr || n < 0 ||
      n > static_cast<int64_t>(out.items.size())) {
    return -1;
  }
  size_t p = cr + 2;
  for (int64_t i = 0; i < n; ++i) {
    int r = ParseScalar(buf, p, out.items[static_cast<size_t>(i)]);
    if (r != 1) return r;
  }
  out.type = '*';
  out.text = {};
  out.count = static_cast<int>(n);
  pos = p;
  return 1;
}

absl::StatusOr<RespConn> RespConn::Dial(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("redis address \"", address, "\": no port"));
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  int port = 0;
  std::string host = address.substr(0, colon);
  std::string port_text = address.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port <= 0 ||
      port > 65535 || inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address \"", address, "\": expected IPV4:PORT"));
  }
  sa.sin_port = htons(static_cast<uint16_t>(port));
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  RespConn conn(fd);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    return absl::UnavailableError(
        absl::StrCat("connect to redis ", address, ": ", std::strerror(errno)));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return conn;
}

RespConn::RespConn(RespConn&& other) noexcept { *this = std::move(other); }

RespConn& RespConn::operator=(RespConn&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    buf_ = std::move(other.buf_);
    pos_ = std::exchange(other.pos_, 0);
  }
  return *this;
}

RespConn::~RespConn() {
  if (fd_ >= 0) close(fd_);
}

absl::Status RespConn::Send(const std::vector<std::string_view>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (std::string_view a : args) {
    absl::StrAppend(&out, "$", a.size(), "\r\n");
    out.append(a.data(), a.size());
    out.append("\r\n");
  }
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = write(fd_, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("redis write: ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status RespConn::Fill() {
  char tmp[65536];
  for (;;) {
    ssize_t n = read(fd_, tmp, sizeof(tmp));
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return absl::OkStatus();
    }
    if (n == 0) return absl::UnavailableError("redis closed the connection");
    if (errno != EINTR)
      return absl::UnavailableError(absl::StrCat("redis read: ", std::strerror(errno)));
  }
}

absl::StatusOr<RespReply> RespConn::ReadReply() {
  Compact();
  for (;;) {
    RespReply r;
    size_t p = pos_;
    int got = ParseResp(buf_, p, r);
    if (got < 0) return absl::InternalError("redis sent a reply this client cannot parse");
    if (got == 1) {
      pos_ = p;
      return r;
    }
    absl::Status s = Fill();
    if (!s.ok()) return s;
  }
}

absl::Status RespConn::SetNonBlocking() {
  int flags = fcntl(fd_, F_GETFL, 0);
  if (flags < 0 || fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("fcntl: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status RespConn::ReadAvailable() {
  char tmp[65536];
  for (;;) {
    ssize_t n = read(fd_, tmp, sizeof(tmp));
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return absl::UnavailableError("redis closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat("redis read: ", std::strerror(errno)));
  }
}

int RespConn::Next(RespReply& out) {
  size_t p = pos_;
  int got = ParseResp(buf_, p, out);
  if (got == 1) pos_ = p;
  return got;
}

void RespConn::Compact() {
  buf_.erase(0, pos_);
  pos_ = 0;
}

}  // namespace atomix::bench
