// Encoding of the sync messages with cereal's JSON archives. Each message's save/load is
// written by hand so the wire stays clean: one top-level object, enums as strings, absent
// optionals as absent keys, unknown keys skipped (a newer peer may add some).
#include "anteroom/sync/messages.hpp"

#include <array>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>

#include <istream>
#include <ostream>

// cereal's JSON archives read and write through rapidjson's stream wrappers, whose generic
// versions call istream::peek/get and ostream::put once a character, each building a sentry:
// most of a decode's time on a 60 KB push. These two take their place for the standard
// streams (declared before cereal's header instantiates them; only this file uses cereal)
// and go to the stream's buffer directly, which is what peek, get and put do after their
// checks. Reading behaves as the generic wrapper: '\0' at the end, a count of characters taken.
// Writing leaves out the whitespace of cereal 1.3's only writer, a pretty one (its "no indent"
// still breaks lines and spaces after colons), as the text goes: raw whitespace outside a
// string is never part of the JSON, and inside one it is kept.
namespace rapidjson {
template <typename StreamType>
class BasicIStreamWrapper;
template <typename StreamType>
class BasicOStreamWrapper;

template <>
class BasicIStreamWrapper<std::istream> {
 public:
  using Ch = char;
  explicit BasicIStreamWrapper(std::istream& stream) : m_buf(*stream.rdbuf()) {}
  BasicIStreamWrapper(const BasicIStreamWrapper&) = delete;
  BasicIStreamWrapper& operator=(const BasicIStreamWrapper&) = delete;
  Ch Peek() const { return asChar(m_buf.sgetc()); }
  Ch Take() {
    const Ch c = asChar(m_buf.sbumpc());
    if (c != '\0') ++m_count;
    return c;
  }
  std::size_t Tell() const { return m_count; }
  // Encoding detection only, which cereal does not ask for.
  const Ch* Peek4() const { return nullptr; }
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  std::size_t PutEnd(Ch*) { return 0; }

 private:
  static Ch asChar(std::streambuf::int_type c) {
    return std::streambuf::traits_type::eq_int_type(c, std::streambuf::traits_type::eof())
               ? '\0'
               : std::streambuf::traits_type::to_char_type(c);
  }
  std::streambuf& m_buf;
  std::size_t m_count = 0;
};

template <>
class BasicOStreamWrapper<std::ostream> {
 public:
  using Ch = char;
  explicit BasicOStreamWrapper(std::ostream& stream) : m_buf(*stream.rdbuf()) {}
  BasicOStreamWrapper(const BasicOStreamWrapper&) = delete;
  BasicOStreamWrapper& operator=(const BasicOStreamWrapper&) = delete;
  void Put(Ch c) {
    if (m_inString) {
      if (m_escaped) m_escaped = false;
      else if (c == '\\') m_escaped = true;
      else if (c == '"') m_inString = false;
    } else if (c == '"') {
      m_inString = true;
    } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      return;
    }
    m_buf.sputc(c);
  }
  void Flush() { m_buf.pubsync(); }
  Ch Peek() const { return '\0'; }
  Ch Take() { return '\0'; }
  std::size_t Tell() const { return 0; }
  Ch* PutBegin() { return nullptr; }
  std::size_t PutEnd(Ch*) { return 0; }

 private:
  std::streambuf& m_buf;
  bool m_inString = false;
  bool m_escaped = false;
};
}  // namespace rapidjson

#include <cereal/archives/json.hpp>

namespace anteroom::sync {

// [SECTION] Enum names (one table each)
namespace {

template <class E, std::size_t N>
struct Names {
  std::array<std::pair<E, std::string_view>, N> rows;
  [[nodiscard]] std::string_view name(E v) const noexcept {
    for (const auto& [e, s] : rows)
      if (e == v) return s;
    return "?";
  }
  [[nodiscard]] std::optional<E> parse(std::string_view text) const noexcept {
    for (const auto& [e, s] : rows)
      if (s == text) return e;
    return std::nullopt;
  }
};

constexpr Names<MutationKind, 3> kKinds{{{{MutationKind::Insert, "insert"},
                                          {MutationKind::Update, "update"},
                                          {MutationKind::Delete, "delete"}}}};
constexpr Names<ChangeOp, 4> kOps{{{{ChangeOp::Upsert, "upsert"},
                                    {ChangeOp::Delete, "delete"},
                                    {ChangeOp::Purge, "purge"},
                                    {ChangeOp::Leave, "leave"}}}};
constexpr Names<ResultStatus, 5> kStatuses{{{{ResultStatus::Applied, "applied"},
                                             {ResultStatus::Merged, "merged"},
                                             {ResultStatus::Rejected, "rejected"},
                                             {ResultStatus::Remapped, "remapped"},
                                             {ResultStatus::Held, "held"}}}};

}  // namespace

std::string_view toString(MutationKind v) noexcept { return kKinds.name(v); }
std::string_view toString(ChangeOp v) noexcept { return kOps.name(v); }
std::string_view toString(ResultStatus v) noexcept { return kStatuses.name(v); }
std::optional<MutationKind> parseMutationKind(std::string_view s) noexcept { return kKinds.parse(s); }
std::optional<ChangeOp> parseChangeOp(std::string_view s) noexcept { return kOps.parse(s); }
std::optional<ResultStatus> parseResultStatus(std::string_view s) noexcept { return kStatuses.parse(s); }

// [SECTION] Cursor: "c1.<seq>", then ".<yyyy-mm-dd>" (the window caught up through that day),
// then ".s<entity>" and ".<uuid>" while a first sync's snapshot is under way.
std::string encodeCursor(const Cursor& cursor) {
  std::string s = "c1." + std::to_string(cursor.seq);
  if (cursor.windowThrough) s += "." + formatDate(*cursor.windowThrough);
  if (cursor.snapshot) {
    s += ".s" + std::to_string(cursor.snapshot->entity);
    if (cursor.snapshot->after) s += "." + cursor.snapshot->after->toString();
  }
  return s;
}

Result<Cursor> decodeCursor(std::string_view text) {
  if (text.empty()) return Cursor{};
  auto bad = [] { return fail(ErrorDomain::Protocol, "protocol.cursor", "the sync cursor is not one this hub wrote"); };
  if (text.size() > 128 || !text.starts_with("c1.")) return bad();
  text.remove_prefix(3);
  std::vector<std::string_view> parts;
  while (true) {
    const auto dot = text.find('.');
    parts.push_back(text.substr(0, dot));
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  auto number = [](std::string_view digits, std::int64_t& out) {
    if (digits.empty() || digits.size() > 18) return false;
    out = 0;
    for (char ch : digits) {
      if (ch < '0' || ch > '9') return false;
      out = out * 10 + (ch - '0');
    }
    return true;
  };
  Cursor c;
  if (!number(parts[0], c.seq)) return bad();
  std::size_t k = 1;
  if (k < parts.size() && !parts[k].starts_with("s")) {
    auto day = parseIsoDate(parts[k]);
    if (!day) return bad();
    c.windowThrough = *day;
    ++k;
  }
  if (k < parts.size()) {
    std::int64_t entity = 0;
    // The snapshot part is "s<entity>": checked before substr, which throws on an empty part.
    if (!parts[k].starts_with('s') || !number(parts[k].substr(1), entity) || entity > 64) return bad();
    c.snapshot = SnapshotPosition{static_cast<int>(entity), std::nullopt};
    ++k;
    if (k < parts.size()) {
      auto id = Uuid::parse(parts[k]);
      if (!id) return bad();
      c.snapshot->after = *id;
      ++k;
    }
  }
  if (k != parts.size()) return bad();
  return c;
}

namespace {

using Out = cereal::JSONOutputArchive;
using In = cereal::JSONInputArchive;

// Thrown inside this file only, caught by decode(): a field of the wrong shape.
struct BadMessage {
  std::string message;
};

// [SECTION] Writing
void saveJson(Out& ar, const Json& v) {
  switch (v.type()) {
    case Json::Type::Null: ar.writeName(); ar.saveValue(nullptr); break;
    case Json::Type::Bool: ar.writeName(); ar.saveValue(v.asBool()); break;
    case Json::Type::Int: ar.writeName(); ar.saveValue(static_cast<std::int64_t>(v.asInt())); break;
    case Json::Type::Double:
      ar.writeName();
      if (std::isfinite(v.asDouble())) ar.saveValue(v.asDouble());
      else ar.saveValue(nullptr);
      break;
    case Json::Type::String: ar.writeName(); ar.saveValue(v.asString()); break;
    case Json::Type::Array:
      ar.startNode();
      ar.makeArray();
      for (const auto& e : v.asArray()) saveJson(ar, e);
      ar.finishNode();
      break;
    case Json::Type::Object:
      ar.startNode();
      for (const auto& [k, e] : v.asObject()) {
        ar.setNextName(k.c_str());
        saveJson(ar, e);
      }
      ar.finishNode();
      break;
  }
}

void put(Out& ar, const char* name, const Json& v) {
  ar.setNextName(name);
  saveJson(ar, v);
}
void put(Out& ar, const char* name, const std::string& v) { ar(cereal::make_nvp(name, v)); }
void put(Out& ar, const char* name, std::string_view v) { put(ar, name, std::string(v)); }
void put(Out& ar, const char* name, std::int64_t v) { ar(cereal::make_nvp(name, v)); }
void put(Out& ar, const char* name, int v) { ar(cereal::make_nvp(name, static_cast<std::int64_t>(v))); }
void put(Out& ar, const char* name, bool v) { ar(cereal::make_nvp(name, v)); }
void put(Out& ar, const char* name, const Uuid& v) { put(ar, name, v.toString()); }
void put(Out& ar, const char* name, const Json::Object& v) { put(ar, name, Json(v)); }

template <class T, class F>
void putArray(Out& ar, const char* name, const std::vector<T>& items, F&& each) {
  ar.setNextName(name);
  ar.startNode();
  ar.makeArray();
  for (const auto& item : items) {
    ar.startNode();
    each(item);
    ar.finishNode();
  }
  ar.finishNode();
}

void saveChange(Out& ar, const Change& c) {
  put(ar, "entity", c.entity);
  put(ar, "id", c.id);
  put(ar, "op", toString(c.op));
  put(ar, "row_version", c.rowVersion);
  if (c.op == ChangeOp::Upsert || c.op == ChangeOp::Delete) put(ar, "row", c.row);
}

template <class F>
std::string write(F&& body) {
  std::ostringstream os;
  {
    Out ar(os, Out::Options::NoIndent());
    body(ar);
  }
  return std::move(os).str();
}

// [SECTION] Reading
Json loadJson(In& ar, std::size_t depth, std::size_t maxDepth);

template <class T>
bool tryLoad(In& ar, T& out) {
  try {
    ar.loadValue(out);
    return true;
  } catch (const cereal::RapidJSONException&) {
    return false;  // wrong type: cereal has not moved past the value
  }
}

// cereal cannot tell a value's type before reading it, so a free-form value is read by trying
// the types in order of how common they are in rows; the body was already checked to be strict
// JSON within the limits, so this only chooses among well-formed values.
Json loadJson(In& ar, std::size_t depth, std::size_t maxDepth) {
  if (depth > maxDepth) throw BadMessage{"the message is nested too deeply"};
  if (std::string s; tryLoad(ar, s)) return Json(std::move(s));
  if (std::int64_t i = 0; tryLoad(ar, i)) return Json(i);
  if (double d = 0; tryLoad(ar, d)) return Json(d);
  if (bool b = false; tryLoad(ar, b)) return Json(b);
  if (std::nullptr_t n = nullptr; tryLoad(ar, n)) return Json(nullptr);
  ar.startNode();
  Json result;
  cereal::size_type n = 0;
  bool isArray = true;
  try {
    ar.loadSize(n);
  } catch (const cereal::RapidJSONException&) {
    isArray = false;
  }
  if (isArray) {
    Json::Array items;
    items.reserve(static_cast<std::size_t>(n));
    for (cereal::size_type k = 0; k < n; ++k) items.push_back(loadJson(ar, depth + 1, maxDepth));
    result = Json(std::move(items));
  } else {
    Json::Object members;
    while (const char* name = ar.getNodeName()) {
      std::string key(name);
      members.emplace(std::move(key), loadJson(ar, depth + 1, maxDepth));
    }
    result = Json(std::move(members));
  }
  ar.finishNode();
  return result;
}

// The body as the model's parser read it, walked beside cereal: where the tree says what a
// free-form value is, cereal reads exactly that (or skips a whole object or array), instead of
// trying types with exceptions, and the value is moved out of the tree (each is read once), not
// copied: a pull page's rows were a third of its decode, copied and then freed with the tree.
// One decode at a time per thread; set by read() below.
struct Hint {
  Json* node = nullptr;   // the object or array element being read
  Json* value = nullptr;  // the member being read
};
thread_local Hint t_hint;

// A free-form value, from the tree when it knows it (taken from it).
Json hinted(In& ar, std::size_t maxDepth) {
  Json* known = t_hint.value;
  if (!known) return loadJson(ar, 1, maxDepth);
  switch (known->type()) {
    case Json::Type::Null: {
      std::nullptr_t n = nullptr;
      ar.loadValue(n);
      break;
    }
    case Json::Type::Bool: {
      bool b = false;
      ar.loadValue(b);
      break;
    }
    case Json::Type::Int: {
      std::int64_t i = 0;
      ar.loadValue(i);
      break;
    }
    case Json::Type::Double: {
      double d = 0;
      ar.loadValue(d);
      break;
    }
    case Json::Type::String: {
      std::string text;
      ar.loadValue(text);
      break;
    }
    case Json::Type::Array:
    case Json::Type::Object:
      ar.startNode();  // past the whole container at once
      ar.finishNode();
      break;
  }
  return std::move(*known);
}

// Reads one object's members in any order: `on(name)` returns false for a name it does not
// know, which is then skipped.
template <class F>
void members(In& ar, F&& on, std::size_t maxDepth) {
  Json* self = t_hint.node;
  while (const char* name = ar.getNodeName()) {
    const std::string field(name);
    Json* value = self ? self->find(field) : nullptr;
    t_hint = {value, value};
    if (!on(std::string_view(field))) (void)hinted(ar, maxDepth);
    t_hint = {self, nullptr};
  }
}

[[noreturn]] void badField(std::string_view field, std::string_view what) {
  throw BadMessage{"field \"" + std::string(field) + "\" must be " + std::string(what)};
}

std::string getString(In& ar, std::string_view field) {
  std::string s;
  if (!tryLoad(ar, s)) badField(field, "a string");
  return s;
}
std::int64_t getInt(In& ar, std::string_view field) {
  std::int64_t i = 0;
  if (!tryLoad(ar, i)) badField(field, "an integer");
  return i;
}
bool getBool(In& ar, std::string_view field) {
  bool b = false;
  if (!tryLoad(ar, b)) badField(field, "true or false");
  return b;
}
int getSmallInt(In& ar, std::string_view field, int lo, int hi) {
  const std::int64_t v = getInt(ar, field);
  if (v < lo || v > hi) badField(field, "between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int>(v);
}
Uuid getUuid(In& ar, std::string_view field) {
  auto u = Uuid::parse(getString(ar, field));
  if (!u) badField(field, "a UUID");
  return *u;
}
Json::Object getObject(In& ar, std::string_view field, std::size_t maxDepth) {
  Json j = hinted(ar, maxDepth);
  if (!j.isObject()) badField(field, "an object");
  return std::move(j.asObject());
}
template <class E>
E getEnum(In& ar, std::string_view field, std::optional<E> (*parse)(std::string_view) noexcept, std::string_view what) {
  auto e = parse(getString(ar, field));
  if (!e) badField(field, what);
  return *e;
}

// An array of objects, each read by `each`, with a ceiling on its length.
template <class T, class F>
std::vector<T> getArray(In& ar, std::string_view field, std::size_t maxItems, F&& each) {
  try {
    ar.startNode();
  } catch (const cereal::RapidJSONException&) {
    badField(field, "an array");
  }
  cereal::size_type n = 0;
  try {
    ar.loadSize(n);
  } catch (const cereal::RapidJSONException&) {
    badField(field, "an array");
  }
  if (n > maxItems) throw BadMessage{"field \"" + std::string(field) + "\" has more than " + std::to_string(maxItems) + " items"};
  std::vector<T> items;
  items.reserve(static_cast<std::size_t>(n));
  Json* array = t_hint.value;
  for (cereal::size_type k = 0; k < n; ++k) {
    try {
      ar.startNode();
    } catch (const cereal::RapidJSONException&) {
      badField(field, "an array of objects");
    }
    Json* element =
        array && array->isArray() && k < array->asArray().size() ? &array->asArray()[static_cast<std::size_t>(k)] : nullptr;
    const Hint outer = t_hint;
    t_hint = {element, nullptr};
    items.push_back(each());
    t_hint = outer;
    ar.finishNode();
  }
  ar.finishNode();
  return items;
}

void require(bool seen, std::string_view field) {
  if (!seen) throw BadMessage{"field \"" + std::string(field) + "\" is missing"};
}

Change loadChange(In& ar, std::size_t maxDepth) {
  Change c;
  bool entity = false, id = false, op = false;
  members(ar, [&](std::string_view f) {
    if (f == "entity") { c.entity = getString(ar, f); entity = true; }
    else if (f == "id") { c.id = getUuid(ar, f); id = true; }
    else if (f == "op") { c.op = getEnum<ChangeOp>(ar, f, parseChangeOp, "upsert, delete, purge or leave"); op = true; }
    else if (f == "row_version") c.rowVersion = getInt(ar, f);
    else if (f == "row") c.row = getObject(ar, f, maxDepth);
    else return false;
    return true;
  }, maxDepth);
  require(entity, "entity");
  require(id, "id");
  require(op, "op");
  // A purge or a leave has no row (saveChange writes none); one sent anyway is not kept, so a
  // decoded change is what its encoding says.
  if (c.op == ChangeOp::Purge || c.op == ChangeOp::Leave) c.row.clear();
  return c;
}

// Checks size, depth and strict JSON with the model's parser (which refuses NaN, duplicate
// keys and bad UTF-8, none of which cereal's reader refuses), then reads with cereal.
template <class T, class F>
Result<T> read(std::string_view body, const WireLimits& limits, std::string_view what, F&& load) {
  auto checked = Json::parse(body, ParseLimits{limits.maxBodyBytes, limits.maxDepth});
  if (!checked) {
    Error e = checked.error();
    e.code = e.code == "json.too_large" ? "protocol.too_large" : "protocol.malformed";
    e.message = "the " + std::string(what) + " is not valid: " + e.message;
    return std::unexpected(std::move(e));
  }
  if (!checked->isObject())
    return fail(ErrorDomain::Protocol, "protocol.malformed", "the " + std::string(what) + " is not a JSON object");
  struct Walk {  // the tree beside cereal for this decode, cleared however it ends
    explicit Walk(Json& root) { t_hint = {&root, nullptr}; }
    ~Walk() { t_hint = {}; }
  } walk(*checked);
  try {
    std::istringstream is{std::string(body)};
    In ar(is);
    return load(ar);
  } catch (const BadMessage& bad) {
    return fail(ErrorDomain::Protocol, "protocol.malformed", "the " + std::string(what) + " is not valid: " + bad.message);
  } catch (const cereal::Exception& e) {
    return fail(ErrorDomain::Protocol, "protocol.malformed",
                "the " + std::string(what) + " could not be read: " + std::string(e.what()));
  }
}

}  // namespace

// [SECTION] Messages
// A mutation without its own schema_version was written under the request's.
constexpr int kInheritSchemaVersion = -1;

std::string encode(const PushRequest& m) {
  return write([&](Out& ar) {
    put(ar, "schema_version", m.schemaVersion);
    putArray(ar, "mutations", m.mutations, [&](const Mutation& x) {
      put(ar, "mutation_id", x.mutationId);
      put(ar, "device_seq", x.deviceSeq);
      put(ar, "entity", x.entity);
      put(ar, "id", x.id);
      put(ar, "kind", toString(x.kind));
      // What the decoder infers stays off the wire (a check-in is ~50 bytes gzip'd): no empty
      // changes or prior, no base version 0, no schema version equal to the request's.
      if (!x.changes.empty()) put(ar, "changes", x.changes);
      if (!x.prior.empty()) put(ar, "prior", x.prior);
      if (x.baseVersion != 0) put(ar, "base_version", x.baseVersion);
      put(ar, "hlc", x.hlc);
      if (x.schemaVersion != m.schemaVersion) put(ar, "schema_version", x.schemaVersion);
    });
  });
}

Result<PushRequest> decodePushRequest(std::string_view body, const WireLimits& limits) {
  return read<PushRequest>(body, limits, "push request", [&](In& ar) {
    PushRequest m;
    bool version = false, mutations = false;
    members(ar, [&](std::string_view f) {
      if (f == "schema_version") { m.schemaVersion = getSmallInt(ar, f, 0, 1000000); version = true; }
      else if (f == "mutations") {
        mutations = true;
        m.mutations = getArray<Mutation>(ar, f, limits.maxMutationsPerPush, [&] {
          Mutation x;
          x.schemaVersion = kInheritSchemaVersion;  // absent: the request's (filled in below)
          bool id = false, seq = false, entity = false, rowId = false, kind = false;
          members(ar, [&](std::string_view g) {
            if (g == "mutation_id") { x.mutationId = getUuid(ar, g); id = true; }
            else if (g == "device_seq") { x.deviceSeq = getInt(ar, g); seq = true; }
            else if (g == "entity") { x.entity = getString(ar, g); entity = true; }
            else if (g == "id") { x.id = getUuid(ar, g); rowId = true; }
            else if (g == "kind") { x.kind = getEnum<MutationKind>(ar, g, parseMutationKind, "insert, update or delete"); kind = true; }
            else if (g == "changes") x.changes = getObject(ar, g, limits.maxDepth);
            else if (g == "prior") x.prior = getObject(ar, g, limits.maxDepth);
            else if (g == "base_version") x.baseVersion = getInt(ar, g);
            else if (g == "hlc") x.hlc = getString(ar, g);
            else if (g == "schema_version") x.schemaVersion = getSmallInt(ar, g, 0, 1000000);
            else return false;
            return true;
          }, limits.maxDepth);
          require(id, "mutation_id");
          require(seq, "device_seq");
          require(entity, "entity");
          require(rowId, "id");
          require(kind, "kind");
          if (x.deviceSeq <= 0) badField("device_seq", "positive");
          return x;
        });
      } else return false;
      return true;
    }, limits.maxDepth);
    require(version, "schema_version");
    require(mutations, "mutations");
    for (Mutation& x : m.mutations)
      if (x.schemaVersion == kInheritSchemaVersion) x.schemaVersion = m.schemaVersion;
    return m;
  });
}

std::string encode(const PushResponse& m) {
  return write([&](Out& ar) {
    putArray(ar, "results", m.results, [&](const MutationResult& r) {
      put(ar, "mutation_id", r.mutationId);
      put(ar, "device_seq", r.deviceSeq);
      put(ar, "status", toString(r.status));
      if (r.status == ResultStatus::Applied || r.status == ResultStatus::Merged || r.status == ResultStatus::Remapped)
        put(ar, "row_version", r.rowVersion);
      if (!r.code.empty()) put(ar, "code", r.code);
      if (!r.message.empty()) put(ar, "message", r.message);
      if (r.centralId) put(ar, "central_id", *r.centralId);
      if (r.row) {
        ar.setNextName("row");
        ar.startNode();
        saveChange(ar, *r.row);
        ar.finishNode();
      }
    });
    put(ar, "hlc", m.hlc);
  });
}

Result<PushResponse> decodePushResponse(std::string_view body, const WireLimits& limits) {
  return read<PushResponse>(body, limits, "push response", [&](In& ar) {
    PushResponse m;
    bool results = false;
    members(ar, [&](std::string_view f) {
      if (f == "hlc") m.hlc = getString(ar, f);
      else if (f == "results") {
        results = true;
        m.results = getArray<MutationResult>(ar, f, limits.maxMutationsPerPush, [&] {
          MutationResult r;
          bool id = false, status = false;
          members(ar, [&](std::string_view g) {
            if (g == "mutation_id") { r.mutationId = getUuid(ar, g); id = true; }
            else if (g == "device_seq") r.deviceSeq = getInt(ar, g);
            else if (g == "status") {
              r.status = getEnum<ResultStatus>(ar, g, parseResultStatus, "applied, merged, rejected, remapped or held");
              status = true;
            } else if (g == "row_version") r.rowVersion = getInt(ar, g);
            else if (g == "code") r.code = getString(ar, g);
            else if (g == "message") r.message = getString(ar, g);
            else if (g == "central_id") r.centralId = getUuid(ar, g);
            else if (g == "row") {
              ar.startNode();
              r.row = loadChange(ar, limits.maxDepth);
              ar.finishNode();
            } else return false;
            return true;
          }, limits.maxDepth);
          require(id, "mutation_id");
          require(status, "status");
          if (r.status == ResultStatus::Remapped && !r.centralId) badField("central_id", "present when remapped");
          return r;
        });
      } else return false;
      return true;
    }, limits.maxDepth);
    require(results, "results");
    return m;
  });
}

std::string encode(const PullRequest& m) {
  return write([&](Out& ar) {
    put(ar, "after", m.after);
    put(ar, "limit", m.limit);
    put(ar, "wait", m.waitSeconds);
    put(ar, "schema_version", m.schemaVersion);
  });
}

Result<PullRequest> decodePullRequest(std::string_view body, const WireLimits& limits) {
  return read<PullRequest>(body, limits, "pull request", [&](In& ar) {
    PullRequest m;
    bool version = false;
    members(ar, [&](std::string_view f) {
      if (f == "after") m.after = getString(ar, f);
      else if (f == "limit") m.limit = getSmallInt(ar, f, 1, static_cast<int>(limits.maxChangesPerPage));
      else if (f == "wait") m.waitSeconds = getSmallInt(ar, f, 0, 30);
      else if (f == "schema_version") { m.schemaVersion = getSmallInt(ar, f, 0, 1000000); version = true; }
      else return false;
      return true;
    }, limits.maxDepth);
    require(version, "schema_version");
    if (auto c = decodeCursor(m.after); !c) throw BadMessage{c.error().message};
    return m;
  });
}

std::string encode(const PullResponse& m) {
  return write([&](Out& ar) {
    putArray(ar, "changes", m.changes, [&](const Change& c) { saveChange(ar, c); });
    put(ar, "cursor", m.cursor);
    put(ar, "more", m.more);
    put(ar, "hlc", m.hlc);
  });
}

Result<PullResponse> decodePullResponse(std::string_view body, const WireLimits& limits) {
  return read<PullResponse>(body, limits, "pull response", [&](In& ar) {
    PullResponse m;
    bool changes = false, cursor = false;
    members(ar, [&](std::string_view f) {
      if (f == "changes") {
        changes = true;
        m.changes = getArray<Change>(ar, f, limits.maxChangesPerPage, [&] { return loadChange(ar, limits.maxDepth); });
      } else if (f == "cursor") { m.cursor = getString(ar, f); cursor = true; }
      else if (f == "more") m.more = getBool(ar, f);
      else if (f == "hlc") m.hlc = getString(ar, f);
      else return false;
      return true;
    }, limits.maxDepth);
    require(changes, "changes");
    require(cursor, "cursor");
    if (auto c = decodeCursor(m.cursor); !c) throw BadMessage{c.error().message};
    return m;
  });
}

std::string encode(const ErrorBody& m) {
  return write([&](Out& ar) {
    put(ar, "code", m.code);
    put(ar, "message", m.message);
    put(ar, "transient", m.transient);
  });
}

Result<ErrorBody> decodeErrorBody(std::string_view body, const WireLimits& limits) {
  return read<ErrorBody>(body, limits, "error body", [&](In& ar) {
    ErrorBody m;
    bool code = false;
    members(ar, [&](std::string_view f) {
      if (f == "code") { m.code = getString(ar, f); code = true; }
      else if (f == "message") m.message = getString(ar, f);
      else if (f == "transient") m.transient = getBool(ar, f);
      else return false;
      return true;
    }, limits.maxDepth);
    require(code, "code");
    return m;
  });
}

}  // namespace anteroom::sync
