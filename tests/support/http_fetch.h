// Fetching the broker's HTTP endpoints in tests: the port it wrote to
// --http-port-file, GETs with cpp-httplib's client, and samples of a
// Prometheus text exposition.
//
//   int port = WaitForHttpPort(dir + "/http-port");
//   HttpResult r = HttpGet(port, "/metrics");
//   double n = Sample(r.body, R"(atomix_requests_total{code="OK",op="add",type="counter"})");
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_TESTS_SUPPORT_HTTP_FETCH_H_
#define ATOMIX_TESTS_SUPPORT_HTTP_FETCH_H_

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "httplib.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {

// The port in `port_file` once the broker wrote it; 0 if it did not within
// `timeout`.
inline int WaitForHttpPort(const std::string& port_file,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  int port = 0;
  WaitUntil(
      [&] {
        std::ifstream in(port_file);
        return static_cast<bool>(in >> port) && port > 0;
      },
      timeout);
  return port;
}

struct HttpResult {
  int status = 0;  // 0: no answer
  std::string body;
  std::string content_type;
};

inline HttpResult HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(10);
  client.set_read_timeout(10);
  HttpResult result;
  if (auto res = client.Get(path)) {
    result.status = res->status;
    result.body = res->body;
    result.content_type = res->get_header_value("Content-Type");
  }
  return result;
}

// The value of the sample whose name and labels are exactly `series`
// (labels in prometheus-cpp's order: sorted by name); 0 if absent.
inline double Sample(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return 0;
}

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_HTTP_FETCH_H_
