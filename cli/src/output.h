// Command output: records printed as a human table (the default) or as JSON
// lines (-o json), one object per record, with stable field names.
//
//   Printer out(Format::kTable);
//   out.Add({{"key", Field::Str("a")}, {"version", Field::Int(7)}});
//   out.Flush();   // KEY  VERSION
//                  // a    7
//
// Table mode prints a header of the upper-cased field names; a null field
// prints "-". A streaming printer (watch) prints and flushes each record as
// it comes, padding columns to the header's widths; otherwise columns are
// aligned over all records at Flush(). JSON mode prints each record as one
// line at once. Strings are written as they are (JSON-escaped in JSON mode).
//
// Thread-safety: a Printer belongs to one thread.
#ifndef ATOMIX_CLI_OUTPUT_H_
#define ATOMIX_CLI_OUTPUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atomix::cli {

enum class Format { kTable, kJson };

// One value of a record, rendered for both formats up front.
struct Field {
  std::string text;  // the table cell
  std::string json;  // the JSON value

  static Field Null();
  static Field Int(int64_t v);
  static Field Uint(uint64_t v);
  // A 64-bit identifier (a session id): a number in a table, a JSON string
  // (as in protobuf's JSON mapping), since ids above 2^53 do not survive
  // JSON parsers that read numbers as doubles (JavaScript, jq).
  static Field Id(uint64_t v);
  static Field Bool(bool v);
  static Field Str(std::string_view v);
  // A JSON array of strings; in a table, the strings joined with ",".
  static Field Strings(const std::vector<std::string>& v);
  // A JSON array of objects; in a table, `text`.
  static Field Objects(const std::vector<std::vector<std::pair<std::string, Field>>>& v,
                       std::string text);
};

using Record = std::vector<std::pair<std::string, Field>>;

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view s);

// One record as a JSON object on one line (no newline).
std::string JsonObject(const Record& r);

class Printer {
 public:
  explicit Printer(Format format, bool streaming = false)
      : format_(format), streaming_(streaming) {}
  Printer(const Printer&) = delete;
  Printer& operator=(const Printer&) = delete;

  void Add(Record r);
  // Prints the records held back (table mode, not streaming). Nothing for
  // none: an empty listing prints nothing.
  void Flush();

 private:
  void PrintRow(const std::vector<std::string>& cells, const std::vector<size_t>& widths);

  Format format_;
  bool streaming_;
  bool header_done_ = false;
  std::vector<size_t> widths_;  // streaming: the header's widths
  std::vector<Record> held_;
};

// A single record as "field  value" lines (table mode), or one JSON line.
void PrintSingle(Format format, const Record& r);

// A single record as a one-row table (header and row), or one JSON line.
void PrintSingleRow(Format format, Record r);

}  // namespace atomix::cli

#endif  // ATOMIX_CLI_OUTPUT_H_
