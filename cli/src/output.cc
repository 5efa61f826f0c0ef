#include "cli/src/output.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace atomix::cli {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Field Field::Null() { return {"-", "null"}; }
Field Field::Int(int64_t v) { return {absl::StrCat(v), absl::StrCat(v)}; }
Field Field::Uint(uint64_t v) { return {absl::StrCat(v), absl::StrCat(v)}; }
Field Field::Id(uint64_t v) { return {absl::StrCat(v), JsonQuote(absl::StrCat(v))}; }
Field Field::Bool(bool v) { return {v ? "true" : "false", v ? "true" : "false"}; }
Field Field::Str(std::string_view v) { return {std::string(v), JsonQuote(v)}; }

Field Field::Strings(const std::vector<std::string>& v) {
  std::vector<std::string> quoted;
  for (const std::string& s : v) quoted.push_back(JsonQuote(s));
  return {v.empty() ? "-" : absl::StrJoin(v, ","), absl::StrCat("[", absl::StrJoin(quoted, ","), "]")};
}

Field Field::Objects(const std::vector<Record>& v, std::string text) {
  std::vector<std::string> objects;
  for (const Record& r : v) objects.push_back(JsonObject(r));
  return {text.empty() ? "-" : std::move(text), absl::StrCat("[", absl::StrJoin(objects, ","), "]")};
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

std::string JsonObject(const Record& r) {
  std::string out = "{";
  for (size_t i = 0; i < r.size(); ++i) {
    if (i > 0) out += ",";
    absl::StrAppend(&out, JsonQuote(r[i].first), ":", r[i].second.json);
  }
  out += "}";
  return out;
}

void Printer::Add(Record r) {
  if (format_ == Format::kJson) {
    std::cout << JsonObject(r) << "\n";
    if (streaming_) std::cout.flush();
    return;
  }
  if (!streaming_) {
    held_.push_back(std::move(r));
    return;
  }
  if (!header_done_) {
    std::vector<std::string> header;
    for (const auto& [name, field] : r) {
      header.push_back(Upper(name));
      widths_.push_back(std::max(header.back().size(), field.text.size()));
    }
    PrintRow(header, widths_);
    header_done_ = true;
  }
  std::vector<std::string> cells;
  for (const auto& [name, field] : r) cells.push_back(field.text);
  PrintRow(cells, widths_);
  std::cout.flush();
}

void Printer::Flush() {
  if (held_.empty()) return;
  std::vector<std::string> header;
  std::vector<size_t> widths;
  for (const auto& [name, field] : held_.front()) {
    header.push_back(Upper(name));
    widths.push_back(header.back().size());
  }
  for (const Record& r : held_) {
    for (size_t i = 0; i < r.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], r[i].second.text.size());
    }
  }
  PrintRow(header, widths);
  for (const Record& r : held_) {
    std::vector<std::string> cells;
    for (const auto& [name, field] : r) cells.push_back(field.text);
    PrintRow(cells, widths);
  }
  held_.clear();
  std::cout.flush();
}

void Printer::PrintRow(const std::vector<std::string>& cells, const std::vector<size_t>& widths) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    line += cells[i];
    if (i + 1 < cells.size()) {
      const size_t width = i < widths.size() ? widths[i] : cells[i].size();
      line.append(width > cells[i].size() ? width - cells[i].size() : 0, ' ');
      line += "  ";
    }
  }
  std::cout << line << "\n";
}

void PrintSingle(Format format, const Record& r) {
  if (format == Format::kJson) {
    std::cout << JsonObject(r) << "\n";
    std::cout.flush();
    return;
  }
  size_t width = 0;
  for (const auto& [name, field] : r) width = std::max(width, name.size());
  for (const auto& [name, field] : r) {
    std::cout << name << std::string(width - name.size() + 2, ' ') << field.text << "\n";
  }
  std::cout.flush();
}

void PrintSingleRow(Format format, Record r) {
  Printer p(format);
  p.Add(std::move(r));
  p.Flush();
}

}  // namespace atomix::cli
