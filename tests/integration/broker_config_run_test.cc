// atomix-broker run with --config FILE and --log-format json: the file's
// settings take effect, a bad file stops the broker with exit status 2
// naming key and line, and every line the broker logs is one JSON object.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/http_fetch.h"
#include "tests/support/process.h"
#include "tests/support/test_client.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;

// Parses one line holding a flat JSON object whose values are all strings
// (what the broker's JSON log writes); nullopt if it is anything else or
// not valid JSON (RFC 8259 string escapes included).
class FlatJson {
 public:
  static std::optional<std::map<std::string, std::string>> Parse(const std::string& text) {
    FlatJson p(text);
    std::map<std::string, std::string> out;
    p.Space();
    if (!p.Eat('{')) return std::nullopt;
    p.Space();
    if (p.Eat('}')) return p.End() ? std::optional(out) : std::nullopt;
    while (true) {
      std::string key, value;
      p.Space();
      if (!p.String(key)) return std::nullopt;
      p.Space();
      if (!p.Eat(':')) return std::nullopt;
      p.Space();
      if (!p.String(value)) return std::nullopt;
      if (!out.emplace(key, value).second) return std::nullopt;  // duplicate key
      p.Space();
      if (p.Eat(',')) continue;
      if (p.Eat('}')) break;
      return std::nullopt;
    }
    return p.End() ? std::optional(out) : std::nullopt;
  }

 private:
  explicit FlatJson(const std::string& text) : s_(text) {}
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool End() {
    Space();
    return i_ == s_.size();
  }
  bool Hex4(unsigned& v) {
    if (i_ + 4 > s_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return false;
    }
    return true;
  }
  void Utf8(unsigned cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool String(std::string& out) {
    if (!Eat('"')) return false;
    while (i_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;  // raw control characters are not JSON
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned low = 0;
            if (!Eat('\\') || !Eat('u') || !Hex4(low) || low < 0xDC00 || low > 0xDFFF) {
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          Utf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  const std::string& s_;
  size_t i_ = 0;
};

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

// Runs atomix-broker with `args` until it exits by itself; its exit code
// and output.
int RunToExit(const std::vector<std::string>& args, std::string& output) {
  const std::string log = MakeTempDir("atomix-config-run") + "/broker.log";
  std::vector<std::string> argv = {ATOMIX_BROKER_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<pid_t> pid = Spawn(argv, log);
  EXPECT_TRUE(pid.ok()) << pid.status();
  if (!pid.ok()) return -1;
  const int code = ExitCode(Reap(*pid));
  output = ReadFile(log);
  return code;
}

TEST(BrokerConfigRun, ServesAsTheFileSays) {
  const std::string dir = MakeTempDir("atomix-config-run");
  const std::string config = WriteFile(dir + "/broker.toml",
                                       "listen = \"127.0.0.1:0\"\n"
                                       "port_file = \"" + dir + "/port\"\n"
                                       "store = \"memory\"\n"
                                       "first_revision = 41\n"
                                       "http_listen = \"127.0.0.1:0\"\n"
                                       "http_port_file = \"" + dir + "/http-port\"\n"
                                       "log_level = \"warn\"\n");
  absl::StatusOr<pid_t> pid = Spawn({ATOMIX_BROKER_BIN, "--config", config}, dir + "/broker.log");
  ASSERT_TRUE(pid.ok()) << pid.status();
  const int port = WaitForHttpPort(dir + "/port");
  ASSERT_GT(port, 0) << ReadFile(dir + "/broker.log");
  const int http_port = WaitForHttpPort(dir + "/http-port");
  ASSERT_GT(http_port, 0);
  EXPECT_EQ(HttpGet(http_port, "/healthz").status, 200);

  ClientOptions options;
  options.endpoints = {"127.0.0.1:" + std::to_string(port)};
  options.connect_timeout = seconds(10);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto counter = GetCounter(*client, "jobs");
  ASSERT_TRUE(counter.ok()) << counter.status();
  auto added = counter->Increment(1);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->version, 42);  // revisions start above first_revision
  EXPECT_EQ(ExitCode(KillAndReap(*pid, SIGTERM)), 0);
}

TEST(BrokerConfigRun, UnknownKeyExitsTwoNamingKeyAndLine) {
  const std::string dir = MakeTempDir("atomix-config-run");
  const std::string config =
      WriteFile(dir + "/broker.toml", "store = \"memory\"\nstorage = \"disk\"\n");
  std::string output;
  EXPECT_EQ(RunToExit({"--config", config}, output), 2);
  EXPECT_NE(output.find(config + ":2: unknown key \"storage\""), std::string::npos) << output;
}

TEST(BrokerConfigRun, BadValueExitsTwoNamingKeyAndLine) {
  const std::string dir = MakeTempDir("atomix-config-run");
  const std::string config =
      WriteFile(dir + "/broker.toml", "# the store\n\nsync = \"sometimes\"\n");
  std::string output;
  EXPECT_EQ(RunToExit({"--config", config}, output), 2);
  EXPECT_NE(output.find(config + ":3: key \"sync\": bad value \"sometimes\""),
            std::string::npos)
      << output;
}

TEST(BrokerConfigRun, FlagWinsOverTheFile) {
  const std::string dir = MakeTempDir("atomix-config-run");
  const std::string config = WriteFile(dir + "/broker.toml",
                                       "listen = \"127.0.0.1:0\"\n"
                                       "store = \"memory\"\n"
                                       "port_file = \"" + dir + "/file-port\"\n");
  absl::StatusOr<pid_t> pid = Spawn(
      {ATOMIX_BROKER_BIN, "--config", config, "--port-file", dir + "/flag-port"},
      dir + "/broker.log");
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_GT(WaitForHttpPort(dir + "/flag-port"), 0) << ReadFile(dir + "/broker.log");
  EXPECT_EQ(ReadFile(dir + "/file-port"), "");
  EXPECT_EQ(ExitCode(KillAndReap(*pid, SIGTERM)), 0);
}

TEST(JsonLog, EveryLineIsOneJsonObject) {
  const std::string dir = MakeTempDir("atomix-json-log");
  const std::string log = dir + "/broker.log";
  absl::StatusOr<pid_t> pid =
      Spawn({ATOMIX_BROKER_BIN, "--log-format", "json", "--log-level", "debug", "--store",
             "memory", "--first-revision", "0", "--listen", "127.0.0.1:0", "--port-file",
             dir + "/port"},
            log);
  ASSERT_TRUE(pid.ok()) << pid.status();
  const int port = WaitForHttpPort(dir + "/port");
  ASSERT_GT(port, 0) << ReadFile(log);
  {
    ClientOptions options;
    options.endpoints = {"127.0.0.1:" + std::to_string(port)};
    options.connect_timeout = seconds(10);
    auto client = Client::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    auto counter = GetCounter(*client, "quote\"and\\back\nslash");
    ASSERT_TRUE(counter.ok()) << counter.status();
    ASSERT_TRUE(counter->Increment(1).ok());
  }
  ASSERT_EQ(ExitCode(KillAndReap(*pid, SIGTERM)), 0);

  const std::regex ts(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  std::istringstream lines(ReadFile(log));
  std::string line;
  int count = 0;
  bool listening = false, stopped = false;
  while (std::getline(lines, line)) {
    ++count;
    auto object = FlatJson::Parse(line);
    ASSERT_TRUE(object.has_value()) << "not a JSON object of strings: " << line;
    ASSERT_EQ(object->size(), 4u) << line;
    EXPECT_TRUE(std::regex_match((*object)["ts"], ts)) << line;
    const std::string& level = (*object)["level"];
    EXPECT_TRUE(level == "trace" || level == "debug" || level == "info" ||
                level == "warning" || level == "error" || level == "critical")
        << line;
    EXPECT_EQ((*object)["logger"], "atomix-broker") << line;
    EXPECT_FALSE((*object)["msg"].empty()) << line;
    listening |= (*object)["msg"].find("listening on 127.0.0.1:0") != std::string::npos;
    stopped |= (*object)["msg"].rfind("stopped at revision 1", 0) == 0;
  }
  EXPECT_GE(count, 3);
  EXPECT_TRUE(listening);
  EXPECT_TRUE(stopped);
}

}  // namespace
}  // namespace atomix::testing
