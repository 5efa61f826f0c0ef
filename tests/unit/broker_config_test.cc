// The broker's flags, config file and JSON log format, without a broker:
// precedence of flag, environment and file, errors naming key and line, and
// the shipped example docs/examples/broker.toml.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "broker-sim/src/config/config_file.h"
#include "broker-sim/src/config/flags.h"
#include "broker-sim/src/config/logging.h"
#include "broker-sim/src/core/json_quote.h"
#include "spdlog/details/log_msg.h"

namespace atomix::broker {
namespace {

// A file in a fresh temp dir holding `text`.
std::string WriteConfig(const std::string& text) {
  char dir[] = "/tmp/atomix-config-XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/broker.toml";
  std::ofstream(path) << text;
  return path;
}

// ParseBrokerFlags over `args` (argv[0] added); its exit code (-1: go on)
// and what it printed to stderr.
int Parse(std::vector<std::string> args, BrokerFlags& flags, std::string* err = nullptr) {
  args.insert(args.begin(), "atomix-broker");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  ::testing::internal::CaptureStderr();
  const int code = ParseBrokerFlags(static_cast<int>(argv.size()), argv.data(), flags);
  const std::string printed = ::testing::internal::GetCapturedStderr();
  if (err != nullptr) *err = printed;
  return code;
}

class ConfigFile : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("ATOMIX_LOG_LEVEL");
    unsetenv("ATOMIX_STORE");
    unsetenv("ATOMIX_CONFIG");
  }
};

TEST_F(ConfigFile, FlagBeatsEnvironmentBeatsFileBeatsDefault) {
  const std::string path = WriteConfig(
      "listen = \"127.0.0.1:7000\"\n"
      "log_level = \"debug\"\n"
      "store = \"memory\"\n"
      "max_value_bytes = 4096\n");
  setenv("ATOMIX_LOG_LEVEL", "warn", 1);
  setenv("ATOMIX_STORE", "etcd", 1);
  BrokerFlags flags;
  ASSERT_EQ(Parse({"--config", path, "--store", "disk"}, flags), -1);
  EXPECT_EQ(flags.store, "disk");            // flag over variable and file
  EXPECT_EQ(flags.log_level, "warn");        // variable over file
  EXPECT_EQ(flags.listen, "127.0.0.1:7000");  // file over default
  EXPECT_EQ(flags.max_value_bytes, 4096);
  EXPECT_EQ(flags.data_dir, "./data");       // default
  EXPECT_EQ(flags.config, path);
}

TEST_F(ConfigFile, ConfigFromTheEnvironmentAndEqualsForm) {
  const std::string path = WriteConfig("store = \"memory\"\nfault_drop_responses = 1\n");
  BrokerFlags flags;
  ASSERT_EQ(Parse({"--config=" + path}, flags), -1);
  EXPECT_EQ(flags.store, "memory");
  EXPECT_EQ(flags.fault_drop_responses, 1.0);  // an integer for a fraction

  setenv("ATOMIX_CONFIG", path.c_str(), 1);
  BrokerFlags from_env;
  ASSERT_EQ(Parse({}, from_env), -1);
  EXPECT_EQ(from_env.store, "memory");
}

TEST_F(ConfigFile, EndpointsAsArrayOrString) {
  BrokerFlags array;
  ASSERT_EQ(Parse({"--config", WriteConfig("etcd_endpoints = [\"a:1\", \"b:2\"]\n")}, array),
            -1);
  EXPECT_EQ(array.etcd_endpoints, "a:1,b:2");
  BrokerFlags text;
  ASSERT_EQ(Parse({"--config", WriteConfig("etcd_endpoints = \"c:3\"\n")}, text), -1);
  EXPECT_EQ(text.etcd_endpoints, "c:3");
}

TEST_F(ConfigFile, UnknownKeyExitsTwoNamingKeyAndLine) {
  const std::string path = WriteConfig("store = \"memory\"\n\nlisten_on = \"x\"\n");
  BrokerFlags flags;
  std::string err;
  EXPECT_EQ(Parse({"--config", path}, flags, &err), 2);
  EXPECT_NE(err.find(path + ":3: unknown key \"listen_on\""), std::string::npos) << err;
}

TEST_F(ConfigFile, TablesAndDashedKeysAreUnknown) {
  std::string err;
  BrokerFlags flags;
  EXPECT_EQ(Parse({"--config", WriteConfig("[http]\nlisten = \"x\"\n")}, flags, &err), 2);
  EXPECT_NE(err.find(":1: unknown key \"http\""), std::string::npos) << err;
  EXPECT_EQ(Parse({"--config", WriteConfig("log-level = \"info\"\n")}, flags, &err), 2);
  EXPECT_NE(err.find(":1: unknown key \"log-level\""), std::string::npos) << err;
  EXPECT_EQ(Parse({"--config", WriteConfig("config = \"other.toml\"\n")}, flags, &err), 2);
  EXPECT_NE(err.find(":1: unknown key \"config\""), std::string::npos) << err;
}

TEST_F(ConfigFile, ValueNotInTheAllowedSetNamesKeyAndLine) {
  const std::string path = WriteConfig("# comment\nstore = \"floppy\"\n");
  BrokerFlags flags;
  std::string err;
  EXPECT_EQ(Parse({"--config", path}, flags, &err), 2);
  EXPECT_NE(err.find(path + ":2: key \"store\": bad value \"floppy\""), std::string::npos)
      << err;
}

TEST_F(ConfigFile, ValueOutOfRangeNamesKeyAndLine) {
  BrokerFlags flags;
  std::string err;
  EXPECT_EQ(Parse({"--config", WriteConfig("max_value_bytes = 0\n")}, flags, &err), 2);
  EXPECT_NE(err.find(":1: key \"max_value_bytes\": bad value \"0\""), std::string::npos)
      << err;
  EXPECT_EQ(Parse({"--config", WriteConfig("\n\nsnapshot_records = -5\n")}, flags, &err), 2);
  EXPECT_NE(err.find(":3: key \"snapshot_records\": bad value \"-5\""), std::string::npos)
      << err;
}

TEST_F(ConfigFile, WrongTypeNamesKeyAndLine) {
  BrokerFlags flags;
  std::string err;
  EXPECT_EQ(Parse({"--config", WriteConfig("listen = 5679\n")}, flags, &err), 2);
  EXPECT_NE(err.find(":1: key \"listen\": expected a string"), std::string::npos) << err;
  EXPECT_EQ(Parse({"--config", WriteConfig("watch_history = \"lots\"\n")}, flags, &err), 2);
  EXPECT_NE(err.find(":1: key \"watch_history\": expected an integer"), std::string::npos)
      << err;
  EXPECT_EQ(Parse({"--config", WriteConfig("etcd_endpoints = [1, 2]\n")}, flags, &err), 2);
  EXPECT_NE(err.find(":1: key \"etcd_endpoints\": expected an array of strings"),
            std::string::npos)
      << err;
}

TEST_F(ConfigFile, SyntaxErrorAndMissingFileExitTwo) {
  BrokerFlags flags;
  std::string err;
  const std::string path = WriteConfig("store = \"memory\"\nlisten = \n");
  EXPECT_EQ(Parse({"--config", path}, flags, &err), 2);
  EXPECT_NE(err.find(path + ":2:"), std::string::npos) << err;
  EXPECT_EQ(Parse({"--config", "/nonexistent/broker.toml"}, flags, &err), 2);
  EXPECT_NE(err.find("cannot read the config file /nonexistent/broker.toml"),
            std::string::npos)
      << err;
}

TEST_F(ConfigFile, BadFlagStillExitsTwo) {
  BrokerFlags flags;
  EXPECT_EQ(Parse({"--store", "floppy"}, flags), 2);
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(Parse({"--help"}, flags), 0);
  EXPECT_NE(::testing::internal::GetCapturedStdout().find("--config"), std::string::npos);
}

// The shipped example parses, holds exactly the defaults, and names every
// flag (as a key, or commented out where no value equals the default).
TEST_F(ConfigFile, ExampleHoldsEveryKeyWithItsDefault) {
  const std::string path = std::string(ATOMIX_SOURCE_DIR) + "/docs/examples/broker.toml";
  BrokerFlags flags;
  std::string err;
  ASSERT_EQ(Parse({"--config", path}, flags, &err), -1) << err;
  const BrokerFlags defaults;
  EXPECT_EQ(flags.listen, defaults.listen);
  EXPECT_EQ(flags.log_level, defaults.log_level);
  EXPECT_EQ(flags.log_format, defaults.log_format);
  EXPECT_EQ(flags.max_value_bytes, defaults.max_value_bytes);
  EXPECT_EQ(flags.max_session_ttl_ms, defaults.max_session_ttl_ms);
  EXPECT_EQ(flags.store, defaults.store);
  EXPECT_EQ(flags.data_dir, defaults.data_dir);
  EXPECT_EQ(flags.sync, defaults.sync);
  EXPECT_EQ(flags.snapshot_records, defaults.snapshot_records);
  EXPECT_EQ(flags.snapshot_bytes, defaults.snapshot_bytes);
  EXPECT_EQ(flags.wal_segment_bytes, defaults.wal_segment_bytes);
  EXPECT_EQ(flags.restore, defaults.restore);
  EXPECT_EQ(flags.etcd_endpoints, defaults.etcd_endpoints);
  EXPECT_EQ(flags.etcd_prefix, defaults.etcd_prefix);
  EXPECT_EQ(flags.etcd_tick_ms, defaults.etcd_tick_ms);
  EXPECT_EQ(flags.etcd_ticker_ttl_ms, defaults.etcd_ticker_ttl_ms);
  EXPECT_EQ(flags.etcd_timeout_ms, defaults.etcd_timeout_ms);
  EXPECT_EQ(flags.etcd_snapshot_entries, defaults.etcd_snapshot_entries);
  EXPECT_EQ(flags.etcd_snapshot_bytes, defaults.etcd_snapshot_bytes);
  EXPECT_EQ(flags.first_revision, defaults.first_revision);
  EXPECT_EQ(flags.port_file, defaults.port_file);
  EXPECT_EQ(flags.fault_drop_responses, defaults.fault_drop_responses);
  EXPECT_EQ(flags.fault_latency_ms, defaults.fault_latency_ms);
  EXPECT_EQ(flags.fault_seed, defaults.fault_seed);
  EXPECT_EQ(flags.watch_history, defaults.watch_history);
  EXPECT_EQ(flags.watch_history_bytes, defaults.watch_history_bytes);
  EXPECT_EQ(flags.max_streams_per_connection, defaults.max_streams_per_connection);
  EXPECT_EQ(flags.grpc_memory_mb, defaults.grpc_memory_mb);
  EXPECT_EQ(flags.http_listen, defaults.http_listen);
  EXPECT_EQ(flags.http_port_file, defaults.http_port_file);
  EXPECT_EQ(flags.tls_cert, defaults.tls_cert);
  EXPECT_EQ(flags.tls_key, defaults.tls_key);
  EXPECT_EQ(flags.tls_client_ca, defaults.tls_client_ca);
  EXPECT_EQ(flags.auth, defaults.auth);
  EXPECT_EQ(flags.auth_tokens, defaults.auth_tokens);

  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CLI::App app;
  BrokerFlags unused;
  DefineBrokerFlags(app, unused);
  for (const CLI::Option* option : app.get_options()) {
    std::string key = option->get_single_name();
    if (key == "help" || key == "version" || key == "config") continue;
    for (char& c : key) c = c == '-' ? '_' : c;
    EXPECT_TRUE(text.find("\n" + key + " = ") != std::string::npos ||
                text.find("\n# " + key + " = ") != std::string::npos)
        << key << " is missing from " << path;
  }
}

std::string FormatJson(spdlog::level::level_enum level, const std::string& text) {
  spdlog::details::log_msg msg("atomix-broker", level,
                               spdlog::string_view_t(text.data(), text.size()));
  msg.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764694045123));
  spdlog::memory_buf_t out;
  JsonLogFormatter().format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(JsonLogFormat, OneObjectPerLineWithUtcMillisecondTime) {
  EXPECT_EQ(FormatJson(spdlog::level::warn, "disk full"),
            "{\"ts\":\"2025-12-02T16:47:25.123Z\",\"level\":\"warning\","
            "\"logger\":\"atomix-broker\",\"msg\":\"disk full\"}\n");
}

TEST(JsonLogFormat, EscapesQuotesControlsAndBadUtf8) {
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  EXPECT_EQ(JsonQuote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(JsonQuote("\xff\xc3"), "\"\\ufffd\\ufffd\"");
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
  EXPECT_EQ(JsonQuote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");            // overlong '/'
  EXPECT_EQ(JsonQuote(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
}

}  // namespace
}  // namespace atomix::broker
