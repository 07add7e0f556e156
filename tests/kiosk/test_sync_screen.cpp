// The kiosk beside the sync daemon (issue 10, deliverable 4): the staff sync screen tells the
// daemon's state honestly in English and Spanish, and rows the daemon commits through SyncTx
// (another connection, as anteroom-syncd holds one) show on the boards after the next poll.
#include <doctest/doctest.h>

#include <algorithm>

#include "anteroom/kiosk/sync_status.hpp"
#include "anteroom/model/row_json.hpp"
#include "anteroom/model/time_zone.hpp"
#include "anteroom/store/sync_store.hpp"
#include "anteroom/store/waitlist_service.hpp"
#include "kiosk_fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;
using namespace std::chrono;

namespace {

void unlockJordan(KioskFixture& fx, Driver& d) {
  const auto users = fx.store.staffUsers().value();
  const auto user = std::find_if(users.begin(), users.end(), [](const StaffUser& u) {
    return u.displayName.starts_with("Jordan");
  });
  REQUIRE(user != users.end());
  d.press("welcome.staff");
  d.press("staff.user." + user->staffId.toString());
  d.type("2468");
  d.press("nav.continue");
  REQUIRE(d.screen() == "staff.today");
}

// A second pending change beside a check-in (which is one): a note for the front desk, as the
// waitlist flow writes one.
void queueDeskNote(KioskFixture& fx, std::string_view id, Instant now) {
  Notification note;
  note.notificationId = *Uuid::parse(id);
  note.recipientId = fx.appointment.providerId;
  note.type = NotificationType::RequestReceived;
  note.content.templateKey = "request_received";
  REQUIRE(fx.store.write(store::Actor::kiosk(), now, [&](store::WriteTx& tx) { return tx.insert(note); }).has_value());
}

// The sync daemon: its own connection to the store file.
store::Store daemonConnection(KioskFixture& fx) {
  store::OpenOptions options;
  options.path = fx.dir / "store.db";
  auto s = store::Store::open(options, fx.key);
  REQUIRE(s.has_value());
  return std::move(*s);
}

// What the daemon writes in sync_state (issue 10's contract); an empty value removes nothing,
// so "absent" is simply never written.
void daemonWrites(store::Store& daemon, std::initializer_list<std::pair<std::string_view, std::string>> values) {
  for (const auto& [key, value] : values) REQUIRE(daemon.setSyncValue(key, value).has_value());
}

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::string rows(const kiosk::KioskApp& app) {
  std::string all;
  if (app.frame().screen.table) {
    for (const auto& r : app.frame().screen.table->rows) {
      for (const auto& c : r.cells) all += c + " | ";
      all += "\n";
    }
  }
  return all;
}

template <class T>
store::RemoteChange changeOf(const T& record, std::string entity, const Uuid& id, std::int64_t version) {
  store::RemoteChange c;
  c.entity = std::move(entity);
  c.id = id;
  c.op = store::ChangeOp::Upsert;
  c.rowVersion = version;
  c.row = toRowJson(record);
  return c;
}

}  // namespace

TEST_CASE("the sync screen: a new device never synced, and no daemon means 'not running', never 'up to date'") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  unlockJordan(fx, d);
  d.press("staff.tab.sync");
  REQUIRE(d.screen() == "staff.sync");
  const std::string body = d.body();
  CHECK(has(body, "The sync service is not running on this device."));
  CHECK(has(body, "Never synced: this device has not reached the practice server yet."));
  CHECK(has(body, "No changes are waiting to be sent."));
  CHECK_FALSE(has(body, "Up to date"));
  CHECK(app.frame().screen.table->empty == "No conflicts to review.");

  d.press("chrome.language");
  CHECK(has(d.body(), "El servicio de sincronización no está funcionando"));
  CHECK(has(d.body(), "Nunca sincronizado"));
}

TEST_CASE("the sync screen follows the daemon: running and synced, backing off with a reason, then stopped") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  unlockJordan(fx, d);
  d.press("staff.tab.sync");
  auto daemon = daemonConnection(fx);
  const PracticeZone zone = PracticeZone::named(fx.store.practice().value()->settings.timeZone).value();
  const auto timeOf = [&](Instant t) {
    const LocalParts p = zone.partsOf(t);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%d:%02d %s", p.hour % 12 == 0 ? 12 : p.hour % 12, p.minute, p.hour < 12 ? "AM" : "PM");
    return std::string(buf);
  };

  // Running: a heartbeat seconds ago, the last good session three minutes ago, nothing waiting.
  const Instant synced = d.now - minutes{3};
  daemonWrites(daemon, {{"daemon_heartbeat_at", formatInstant(d.now - seconds{4})},
                        {"last_success_at", formatInstant(synced)},
                        {"last_push_at", formatInstant(synced)},
                        {"last_pull_at", formatInstant(synced)},
                        {"last_error", ""},
                        {"last_error_code", ""}});
  const auto revision = app.revision();
  d.advance(seconds{1});  // the next poll
  CHECK(app.revision() > revision);
  std::string body = d.body();
  INFO(body);
  CHECK_FALSE(has(body, "not running"));
  CHECK(has(body, "Last synced 3 minutes ago, at " + timeOf(synced) + "."));
  CHECK(has(body, "Up to date: nothing is waiting to be sent."));

  // A check-in made at the desk waits in the outbox: counted, and no longer "up to date".
  d.press("staff.tab.today");
  d.press("staff.today.check_in." + fx.appointment.appointmentId.toString());
  d.press("staff.tab.sync");
  REQUIRE(fx.store.pendingOutboxCount().value() == 1);  // the check-in is one change
  body = d.body();
  CHECK(has(body, "1 change is waiting to be sent."));
  CHECK_FALSE(has(body, "Up to date"));
  // A second one: counted in the plural.
  queueDeskNote(fx, "0190a000-0000-7000-8000-0000000000f2", d.now);
  d.advance(seconds{1});
  CHECK(has(d.body(), "2 changes are waiting to be sent."));

  // Backing off: the hub's database is down; the next try in 45 s; the reason in plain words.
  daemonWrites(daemon, {{"daemon_heartbeat_at", formatInstant(d.now)},
                        {"next_attempt_at", formatInstant(d.now + seconds{46})},
                        {"last_error", "the hub answered 503: its database is unavailable"},
                        {"last_error_code", "hub.database"}});
  d.advance(seconds{1});
  body = d.body();
  CHECK(has(body, "Next try at " + timeOf(d.now + seconds{45}) + " (in 45 s)."));
  CHECK(has(body, "Last problem: the practice server's database is unavailable; it will be tried again"));
  CHECK(has(body, "Last synced 3 minutes ago"));
  d.press("chrome.language");
  body = d.body();
  CHECK(has(body, "Próximo intento a las"));
  CHECK(has(body, "la base de datos del servidor no está disponible"));
  CHECK(has(body, "Última sincronización hace 3 minutos"));
  d.press("chrome.language");

  // A code the kiosk does not know is told in the daemon's own words.
  daemonWrites(daemon, {{"last_error", "the hub sent a page the daemon could not read"}, {"last_error_code", "protocol.odd"}});
  d.advance(seconds{1});
  CHECK(has(d.body(), "Last problem: the hub sent a page the daemon could not read"));

  // The daemon stops: no new heartbeat. Past 30 s it is "not running", with when it was last seen;
  // the words change with the clock alone, without any commit.
  d.advance(seconds{20});
  CHECK_FALSE(has(d.body(), "not running"));
  d.advance(seconds{40});
  body = d.body();
  CHECK(has(body, "The sync service last reported 1 minute ago: it is not running."));
  CHECK_FALSE(has(body, "Next try at"));  // nobody will try while it is stopped
  CHECK_FALSE(has(body, "Up to date"));
  d.press("chrome.language");
  CHECK(has(d.body(), "informó por última vez hace 1 minuto: no está funcionando"));
}

TEST_CASE("conflicts: counted on the sync screen, each one viewable (audited) and marked reviewed") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  unlockJordan(fx, d);
  d.press("staff.tab.today");
  d.press("staff.today.check_in." + fx.appointment.appointmentId.toString());
  // The daemon pushes; the hub refuses the check-in (the appointment was cancelled centrally).
  auto daemon = daemonConnection(fx);
  const auto outbox = daemon.pendingOutbox(100).value();
  REQUIRE_FALSE(outbox.empty());
  std::vector<store::MutationAck> acks;
  for (const auto& m : outbox) {
    store::MutationAck a;
    a.mutationId = m.mutationId;
    if (m.entity == "appointment") {
      a.status = store::AckStatus::Rejected;
      a.code = "appointment.illegal_transition";
      a.message = "a cancelled appointment cannot be checked in";
    }
    acks.push_back(a);
  }
  REQUIRE(daemon.syncWrite(d.now, [&](store::SyncTx& tx) { return tx.acknowledge(acks); }).has_value());

  d.press("staff.tab.sync");
  CHECK(has(d.body(), "1 conflict to review, listed below. Tap View to see what differs."));
  const auto& table = app.frame().screen.table;
  REQUIRE(table.has_value());
  REQUIRE(table->rows.size() == 1);
  CHECK(has(rows(app), "a cancelled appointment cannot be checked in"));
  const std::string id = table->rows.front().id;
  const auto auditsBefore = fx.store.auditTrail(1000).value().size();
  d.press("staff.sync.view." + id);
  std::string detail;
  for (const auto& line : app.frame().screen.detail) detail += line + "\n";
  CHECK(has(detail, "What the server said: a cancelled appointment cannot be checked in"));
  CHECK(has(detail, "Record: Appointment " + fx.appointment.appointmentId.toString()));
  CHECK(has(detail, "This device wrote: "));
  CHECK(has(detail, "checked_in"));
  const auto trail = fx.store.auditTrail(1000).value();
  REQUIRE(trail.size() == auditsBefore + 1);
  CHECK(trail.front().action == "view_conflict");
  CHECK(trail.front().actorKind == "staff");

  d.press("staff.sync.resolve." + id);
  CHECK(app.frame().screen.notice == "Marked reviewed.");
  CHECK(app.frame().screen.table->rows.empty());
  CHECK_FALSE(has(d.body(), "conflict"));
  CHECK(fx.store.openConflicts(10).value().empty());
  // Locking wipes what the screen held.
  d.press("staff.lock");
  CHECK(d.screen() == "welcome");
}

TEST_CASE("conflict reasons: the Spanish screen says a known code's reason in Spanish, and the hub's own words only for an unknown code") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  unlockJordan(fx, d);
  d.press("staff.tab.today");
  d.press("staff.today.check_in." + fx.appointment.appointmentId.toString());
  queueDeskNote(fx, "0190a000-0000-7000-8000-0000000000f3", d.now);
  // The hub refuses the check-in with a code the kiosk knows, and the note with one it does not.
  auto daemon = daemonConnection(fx);
  const auto outbox = daemon.pendingOutbox(100).value();
  std::vector<store::MutationAck> acks;
  for (const auto& m : outbox) {
    store::MutationAck a;
    a.mutationId = m.mutationId;
    a.status = store::AckStatus::Rejected;
    const bool known = m.entity == "appointment";
    a.code = known ? "sync.status.illegal" : "sync.some_future_rule";
    a.message = known ? "a cancelled appointment cannot be checked in" : "the hub has a rule this kiosk has not heard of";
    acks.push_back(a);
  }
  REQUIRE(daemon.syncWrite(d.now, [&](store::SyncTx& tx) { return tx.acknowledge(acks); }).has_value());
  d.press("staff.tab.sync");
  REQUIRE(app.frame().screen.table->rows.size() >= 2);
  // English: the hub's words, which name what they mean.
  CHECK(has(rows(app), "a cancelled appointment cannot be checked in"));
  CHECK(has(rows(app), "the hub has a rule this kiosk has not heard of"));
  d.press("chrome.language");
  const std::string spanish = rows(app);
  CHECK(has(spanish, "Este registro no puede pasar a ese estado desde el que tiene en la consulta."));
  CHECK_FALSE(has(spanish, "a cancelled appointment cannot be checked in"));
  CHECK(has(spanish, "the hub has a rule this kiosk has not heard of"));  // unknown: the hub's words
  const auto& shown = app.frame().screen.table->rows;
  const auto refused = std::find_if(shown.begin(), shown.end(), [](const kiosk::TableVm::Row& r) {
    return has(r.cells.back(), "Este registro no puede pasar");
  });
  REQUIRE(refused != shown.end());
  d.press("staff.sync.view." + refused->id);
  std::string detail;
  for (const auto& line : app.frame().screen.detail) detail += line + "\n";
  CHECK(has(detail, "Este registro no puede pasar a ese estado"));
  // Every code the hub and the model give a conflict has a Spanish sentence.
  auto tr = translations();
  for (const char* code : {"sync.walkin_review", "sync.identity_conflict", "sync.bad_value", "sync.invalid",
                           "sync.unknown_entity", "sync.not_writable", "sync.not_permitted", "sync.not_found",
                           "sync.deleted", "sync.constraint", "sync.refused", "sync.device_restored", "sync.column.fixed",
                           "sync.status.hub_only", "sync.status.illegal", "sync.status.initial", "sync.status.unknown"}) {
    INFO(code);
    CHECK(tr.has("es", std::string("staff.sync.reason.") + code));
    CHECK(tr.has("en", std::string("staff.sync.reason.") + code));
  }
}

TEST_CASE("rows the daemon applies through SyncTx show on the boards after the next poll, without a restart") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  unlockJordan(fx, d);
  auto daemon = daemonConnection(fx);

  // A new appointment pulled from the hub appears on today's board.
  const auto before = app.frame().screen.table->rows.size();
  Appointment pulled = fx.appointment;
  pulled.appointmentId = fx.ids.v7(system_clock::now());
  pulled.startTime = fx.appointment.startTime + minutes{3};
  pulled.endTime = pulled.startTime + minutes{50};
  REQUIRE(daemon.syncWrite(d.now, [&](store::SyncTx& tx) -> Result<void> {
                  auto r = tx.apply(changeOf(pulled, "appointment", pulled.appointmentId, 7));
                  if (!r) return std::unexpected(r.error());
                  return tx.recordPage(1);
                }).has_value());
  const auto revision = app.revision();
  d.advance(seconds{0});
  CHECK(app.revision() == revision);  // nothing polled within the same instant
  d.advance(seconds{1});
  CHECK(app.revision() > revision);
  CHECK(app.frame().screen.table->rows.size() == before + 1);

  // Staff send an offer; the hub rejects it: the slot says so no longer and can be offered again.
  d.press("staff.tab.slots");
  std::string offered;
  for (std::size_t i = 0; i < app.frame().screen.table->rows.size() && offered.empty(); ++i) {
    const std::string slot = app.frame().screen.table->rows[i].id;
    d.press("staff.slots.view." + slot);
    for (const auto& a : app.frame().screen.actions)
      if (a.id == "staff.slots.offer." + slot) offered = slot;
  }
  REQUIRE_FALSE(offered.empty());
  d.press("staff.slots.offer." + offered);
  d.press("staff.slots.offer_confirm");
  const Uuid slotId = *Uuid::parse(offered);
  const auto requests = fx.store.requestsForSlot(slotId).value();
  REQUIRE(requests.size() == 1);
  const auto detailText = [&] {
    std::string all;
    for (const auto& line : app.frame().screen.detail) all += line + "\n";
    return all;
  };
  d.press("staff.slots.view." + offered);
  CHECK(has(detailText(), "waiting for the practice's confirmation"));

  // The daemon's push is acknowledged, then a pull page brings the hub's answer: rejected.
  const auto outbox = daemon.pendingOutbox(100).value();
  std::vector<store::MutationAck> acks;
  for (const auto& m : outbox) acks.push_back(store::MutationAck{m.mutationId, store::AckStatus::Applied, {}, {}, {}, {}});
  AppointmentRequest rejected = requests.front();
  rejected.status = RequestStatus::Rejected;
  REQUIRE(daemon.syncWrite(d.now, [&](store::SyncTx& tx) -> Result<void> {
                  if (auto a = tx.acknowledge(acks); !a) return a;
                  auto r = tx.apply(changeOf(rejected, "appointment_request", rejected.requestId, 9));
                  if (!r) return std::unexpected(r.error());
                  return {};
                }).has_value());
  d.advance(seconds{1});
  CHECK(fx.store.requestsForSlot(slotId).value().front().status == RequestStatus::Rejected);
  CHECK_FALSE(has(detailText(), "waiting for the practice's confirmation"));
  const auto& actions = app.frame().screen.actions;
  CHECK(std::any_of(actions.begin(), actions.end(), [&](const kiosk::ButtonVm& b) { return b.id == "staff.slots.offer." + offered; }));

  // Another slot is booked centrally (a confirmed request elsewhere): it leaves the open slots.
  const auto openBefore = app.frame().screen.table->rows.size();
  AppointmentSlot booked = fx.store.get<AppointmentSlot>(slotId).value().value();
  booked.status = SlotStatus::Booked;
  AppointmentRequest confirmed = rejected;
  confirmed.status = RequestStatus::Confirmed;
  REQUIRE(daemon.syncWrite(d.now, [&](store::SyncTx& tx) -> Result<void> {
                  for (const auto& c : {changeOf(booked, "appointment_slot", booked.slotId, 11),
                                        changeOf(confirmed, "appointment_request", confirmed.requestId, 12)}) {
                    auto r = tx.apply(c);
                    if (!r) return std::unexpected(r.error());
                  }
                  return {};
                }).has_value());
  d.advance(seconds{1});
  CHECK(app.frame().screen.table->rows.size() == openBefore - 1);
  const auto& left = app.frame().screen.table->rows;
  CHECK(std::none_of(left.begin(), left.end(), [&](const kiosk::TableVm::Row& r) { return r.id == offered; }));
}

TEST_CASE("the board's poll is a second on staff boards and 30 s elsewhere, so idle patient screens stay asleep") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  REQUIRE(app.nextDeadline().has_value());
  CHECK(*app.nextDeadline() - d.now >= seconds{30});
  unlockJordan(fx, d);
  REQUIRE(app.nextDeadline().has_value());
  CHECK(*app.nextDeadline() - d.now <= seconds{1});
}

TEST_CASE("'ago' in words, in both languages") {
  auto tr = translations();
  const Instant now = nowUtc();
  CHECK(kiosk::agoText(now - seconds{5}, now, tr) == "just now");
  CHECK(kiosk::agoText(now - seconds{40}, now, tr) == "40 seconds ago");
  CHECK(kiosk::agoText(now - seconds{90}, now, tr) == "1 minute ago");
  CHECK(kiosk::agoText(now - minutes{59}, now, tr) == "59 minutes ago");
  CHECK(kiosk::agoText(now - hours{3}, now, tr) == "3 hours ago");
  CHECK(kiosk::agoText(now - hours{30}, now, tr) == "1 day ago");
  CHECK(kiosk::agoText(now + seconds{30}, now, tr) == "just now");  // a clock a little ahead
  tr.setLanguage("es");
  CHECK(kiosk::agoText(now - seconds{40}, now, tr) == "hace 40 segundos");
  CHECK(kiosk::agoText(now - days{4}, now, tr) == "hace 4 días");
}
