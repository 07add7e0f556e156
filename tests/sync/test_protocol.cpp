// The sync wire messages: exact JSON on the wire, round trips, and refusals of bad bodies.
#include <doctest/doctest.h>

#include <string>

#include "anteroom/sync/messages.hpp"

using namespace anteroom;
using namespace anteroom::sync;

namespace {

Uuid uuid(const char* text) { return *Uuid::parse(text); }

Mutation checkInMutation() {
  Mutation m;
  m.mutationId = uuid("0190f5a0-0000-7000-8000-000000000001");
  m.deviceSeq = 7;
  m.entity = "appointment";
  m.id = uuid("0190f5a0-0000-7000-8000-0000000000aa");
  m.kind = MutationKind::Update;
  m.changes = Json::Object{{"status", "checked_in"}};
  m.prior = Json::Object{{"status", "scheduled"}};
  m.baseVersion = 3;
  m.hlc = "0001764061200000-0000000000-dev";
  return m;
}

}  // namespace

TEST_CASE("a push request is one clean JSON object: no wrapper, enums as strings") {
  PushRequest req;
  req.mutations.push_back(checkInMutation());
  const std::string body = encode(req);
  CHECK(body ==
        R"({"schema_version":2,"mutations":[{"mutation_id":"0190f5a0-0000-7000-8000-000000000001","device_seq":7,)"
        R"("entity":"appointment","id":"0190f5a0-0000-7000-8000-0000000000aa","kind":"update",)"
        R"("changes":{"status":"checked_in"},"prior":{"status":"scheduled"},"base_version":3,)"
        R"("hlc":"0001764061200000-0000000000-dev"}]})");
  auto back = decodePushRequest(body);
  REQUIRE(back.has_value());
  CHECK(*back == req);
}

TEST_CASE("what the hub can infer stays off the wire and decodes to the same mutation") {
  PushRequest req;
  Mutation insert = checkInMutation();
  insert.kind = MutationKind::Insert;
  insert.prior = {};
  insert.baseVersion = 0;
  Mutation old = checkInMutation();
  old.deviceSeq = 8;
  old.schemaVersion = kOldestAcceptedSchemaVersion;  // queued before an upgrade
  req.mutations = {insert, old};
  const std::string body = encode(req);
  CHECK(body.find(R"("prior")") == body.rfind(R"("prior")"));  // only the update's
  CHECK(body.find(R"("base_version")") == body.rfind(R"("base_version")"));
  if (kOldestAcceptedSchemaVersion != kSchemaVersion) {
    CHECK(body.find(R"("schema_version":)" + std::to_string(kOldestAcceptedSchemaVersion)) != std::string::npos);
  }
  auto back = decodePushRequest(body);
  REQUIRE(back.has_value());
  CHECK(*back == req);
  // A mutation's own schema_version rules; without one it is the request's, wherever the
  // request's key stands in the object.
  auto late = decodePushRequest(
      R"({"mutations":[{"mutation_id":"0190f5a0-0000-7000-8000-000000000001","device_seq":1,)"
      R"("entity":"notification","id":"0190f5a0-0000-7000-8000-0000000000ab","kind":"insert",)"
      R"("changes":{"body":"x"},"hlc":"h"}],"schema_version":1})");
  REQUIRE(late.has_value());
  CHECK(late->mutations.at(0).schemaVersion == 1);
  CHECK(late->mutations.at(0).prior.empty());
  CHECK(late->mutations.at(0).baseVersion == 0);
}

TEST_CASE("free-form row values keep their JSON types through a round trip") {
  PullResponse page;
  Change c;
  c.entity = "patient";
  c.id = uuid("0190f5a0-0000-7000-8000-0000000000bb");
  c.rowVersion = 12;
  c.row = Json::Object{{"first_name", "Ana"},
                       {"note", nullptr},
                       {"count", std::int64_t{42}},
                       {"score", 2.5},
                       {"whole", 3.0},
                       {"active", true},
                       {"tags", Json::Array{"a", Json::Array{}, Json::Object{}}},
                       {"prefs", Json::Object{{"times", Json::Array{Json::Object{{"day", "mon"}}}}, {"empty", Json::Object{}}}}};
  page.changes.push_back(c);
  Change gone;
  gone.entity = "appointment";
  gone.id = uuid("0190f5a0-0000-7000-8000-0000000000cc");
  gone.op = ChangeOp::Purge;
  gone.rowVersion = 4;
  page.changes.push_back(gone);
  page.cursor = encodeCursor(Cursor{99, std::chrono::year{2026} / 12 / 4, std::nullopt});
  page.more = true;
  page.hlc = "h";
  auto back = decodePullResponse(encode(page));
  REQUIRE(back.has_value());
  CHECK(*back == page);
  CHECK(encode(page).find(R"("op":"purge","row_version":4})") != std::string::npos);  // no row for a purge
}

TEST_CASE("push results: absent optionals are absent keys; remapped carries the central id") {
  PushResponse res;
  MutationResult applied;
  applied.mutationId = uuid("0190f5a0-0000-7000-8000-000000000001");
  applied.deviceSeq = 1;
  applied.rowVersion = 5;
  MutationResult rejected;
  rejected.mutationId = uuid("0190f5a0-0000-7000-8000-000000000002");
  rejected.deviceSeq = 2;
  rejected.status = ResultStatus::Rejected;
  rejected.code = "sync.illegal_transition";
  rejected.message = "a cancelled appointment cannot be checked in";
  Change row;
  row.entity = "appointment";
  row.id = uuid("0190f5a0-0000-7000-8000-0000000000aa");
  row.rowVersion = 6;
  row.row = Json::Object{{"status", "cancelled"}};
  rejected.row = row;
  MutationResult remapped;
  remapped.mutationId = uuid("0190f5a0-0000-7000-8000-000000000003");
  remapped.deviceSeq = 3;
  remapped.status = ResultStatus::Remapped;
  remapped.rowVersion = 1;
  remapped.centralId = uuid("0190f5a0-0000-7000-8000-0000000000dd");
  res.results = {applied, rejected, remapped};
  res.hlc = "0001764061200000-0000000003-hub";
  const std::string body = encode(res);
  CHECK(body.starts_with(R"({"results":[{"mutation_id":"0190f5a0-0000-7000-8000-000000000001","device_seq":1,"status":"applied","row_version":5},)"));
  CHECK(body.find("nullopt") == std::string::npos);
  auto back = decodePushResponse(body);
  REQUIRE(back.has_value());
  CHECK(*back == res);

  auto noId = decodePushResponse(R"({"results":[{"mutation_id":"0190f5a0-0000-7000-8000-000000000003","status":"remapped"}]})");
  REQUIRE_FALSE(noId.has_value());
  CHECK(noId.error().message.find("central_id") != std::string::npos);
}

TEST_CASE("unknown keys from a newer peer are skipped, in any order") {
  auto r = decodePullRequest(R"({"future":{"x":[1,2,{"y":null}]},"wait":5,"schema_version":1,"after":"c1.40","limit":10})");
  REQUIRE(r.has_value());
  CHECK(r->after == "c1.40");
  CHECK(r->limit == 10);
  CHECK(r->waitSeconds == 5);
  CHECK(r->schemaVersion == 1);
}

TEST_CASE("bad bodies are Protocol errors that say what is wrong, never exceptions") {
  struct Case {
    const char* body;
    const char* says;
  };
  const Case cases[] = {
      {"", "not valid"},
      {"{", "not valid"},
      {"[]", "not a JSON object"},
      {R"({"mutations":[]})", "\"schema_version\" is missing"},
      {R"({"schema_version":2})", "\"mutations\" is missing"},
      {R"({"schema_version":"2","mutations":[]})", "\"schema_version\" must be an integer"},
      {R"({"schema_version":2,"mutations":{}})", "\"mutations\" must be an array"},
      {R"({"schema_version":2,"mutations":[5]})", "must be an array of objects"},
      {R"({"schema_version":2,"mutations":[{"mutation_id":"nope"}]})", "\"mutation_id\" must be a UUID"},
      {R"({"schema_version":2,"mutations":[{"mutation_id":"0190f5a0-0000-7000-8000-000000000001","device_seq":1,"entity":"x","id":"0190f5a0-0000-7000-8000-000000000001","kind":"upsert"}]})",
       "\"kind\" must be insert, update or delete"},
      {R"({"schema_version":2,"mutations":[{"mutation_id":"0190f5a0-0000-7000-8000-000000000001","device_seq":0,"entity":"x","id":"0190f5a0-0000-7000-8000-000000000001","kind":"insert"}]})",
       "\"device_seq\" must be positive"},
      {R"({"schema_version":2,"schema_version":2,"mutations":[]})", "not valid"},  // duplicate key
      {R"({"schema_version":NaN,"mutations":[]})", "not valid"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    auto r = decodePushRequest(c.body);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().domain == ErrorDomain::Protocol);
    CHECK(r.error().message.find(c.says) != std::string::npos);
  }
}

TEST_CASE("ceilings: body size, depth and batch length") {
  WireLimits small;
  small.maxBodyBytes = 64;
  auto big = decodePushRequest(std::string(R"({"schema_version":2,"mutations":[],"pad":")") + std::string(100, 'x') + "\"}", small);
  REQUIRE_FALSE(big.has_value());
  CHECK(big.error().code == "protocol.too_large");

  std::string deep = R"({"schema_version":2,"mutations":[],"x":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}";
  auto tooDeep = decodePushRequest(deep);
  REQUIRE_FALSE(tooDeep.has_value());
  CHECK(tooDeep.error().domain == ErrorDomain::Protocol);

  WireLimits two;
  two.maxMutationsPerPush = 2;
  PushRequest req;
  for (int i = 1; i <= 3; ++i) {
    Mutation m = checkInMutation();
    m.deviceSeq = i;
    req.mutations.push_back(m);
  }
  auto tooMany = decodePushRequest(encode(req), two);
  REQUIRE_FALSE(tooMany.has_value());
  CHECK(tooMany.error().message.find("more than 2") != std::string::npos);
}

TEST_CASE("a purge or a leave carries no row, even when one is sent") {
  // Found by tests/fuzz/fuzz_pull_response: the decoder kept a row the encoder never writes.
  for (const char* op : {"purge", "leave"}) {
    CAPTURE(op);
    const std::string body = std::string(R"({"changes":[{"entity":"appointment","id":"0190f5a0-0000-7000-8000-0000000000cc",)") +
                             R"("op":")" + op + R"(","row_version":4,"row":{"status":"scheduled"}}],"cursor":"c1.9","more":false,"hlc":"h"})";
    auto page = decodePullResponse(body);
    REQUIRE(page.has_value());
    REQUIRE(page->changes.size() == 1);
    CHECK(page->changes[0].row.empty());
    auto again = decodePullResponse(encode(*page));
    REQUIRE(again.has_value());
    CHECK(*again == *page);
  }
}

TEST_CASE("cursors: round trip, start of feed, and refusal of foreign text") {
  CHECK(decodeCursor("")->seq == 0);
  const Cursor c{123456789, std::chrono::year{2026} / 1 / 31, std::nullopt};
  CHECK(*decodeCursor(encodeCursor(c)) == c);
  CHECK(encodeCursor(Cursor{5, std::nullopt, std::nullopt}) == "c1.5");
  const Cursor snap{7, std::chrono::year{2026} / 2 / 1, SnapshotPosition{3, uuid("0190f5a0-0000-7000-8000-0000000000aa")}};
  CHECK(encodeCursor(snap) == "c1.7.2026-02-01.s3.0190f5a0-0000-7000-8000-0000000000aa");
  CHECK(*decodeCursor(encodeCursor(snap)) == snap);
  CHECK(decodeCursor("c1.7.s0")->snapshot == SnapshotPosition{0, std::nullopt});
  for (const char* bad : {"5", "c1.", "c1.x", "c2.5", "c1.5.2026-13-01", "c1.99999999999999999999", "c1.5.s", "c1.5.s1.nope", "c1.5.s1.0190f5a0-0000-7000-8000-0000000000aa.x",
                          // found by tests/fuzz/fuzz_cursor: an empty part after the date threw
                          // std::out_of_range, and any letter stood in for the snapshot's 's'
                          "c1.5.2026-02-28.", "c1.5.2026-02-28..s1", "c1.5.2026-02-28.x3", "c1.5.x3"}) {
    CAPTURE(bad);
    CHECK_FALSE(decodeCursor(bad).has_value());
  }
  auto page = decodePullRequest(R"({"after":"garbage","schema_version":2})");
  REQUIRE_FALSE(page.has_value());
  CHECK(page.error().message.find("cursor") != std::string::npos);
}

TEST_CASE("error bodies") {
  const ErrorBody e{"sync.resync", "this device must sync again from the start", false};
  CHECK(encode(e) == R"({"code":"sync.resync","message":"this device must sync again from the start","transient":false})");
  CHECK(*decodeErrorBody(encode(e)) == e);
}
