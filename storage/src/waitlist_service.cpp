// The store-driven waitlist: loads engine input, recomputes priority_score on writes, and
// persists offer-cycle actions as requests, notifications and status changes in one transaction.
#include "anteroom/store/waitlist_service.hpp"

#include <ctime>
#include <unordered_map>

namespace anteroom::store {
namespace {

using namespace std::chrono;

template <class T>
std::unexpected<Error> errorOf(const Result<T>& r) {
  return std::unexpected(r.error());
}

Result<void> conflict(std::string code, std::string message) {
  return fail(ErrorDomain::Conflict, std::move(code), std::move(message));
}

// Offers made by the waitlist for this slot; patients' own requests (pending) are not offers.
bool isOffer(const AppointmentRequest& r) {
  return r.waitlistEntryId.has_value() && r.status != RequestStatus::Pending && r.status != RequestStatus::Rejected;
}

AppointmentType appointmentTypeFor(VisitMode mode, SlotModes slot) {
  if (mode == VisitMode::Telehealth) return AppointmentType::Telehealth;
  if (mode == VisitMode::InPerson) return AppointmentType::InPerson;
  return slot.inPerson ? AppointmentType::InPerson : AppointmentType::Telehealth;
}

}  // namespace

// [SECTION] Loading

Result<EngineData> WaitlistService::practiceData() {
  EngineData data;
  auto practice = m_store.practice();
  if (!practice) return errorOf(practice);
  if (*practice) data.settings = (*practice)->settings;
  auto providers = m_store.providers();
  if (!providers) return errorOf(providers);
  data.providers = std::move(*providers);
  return data;
}

Result<WaitlistEngine> WaitlistService::loadEngine(Instant now, std::optional<Uuid> waitlistId) {
  auto loaded = practiceData();
  if (!loaded) return errorOf(loaded);
  EngineData data = std::move(*loaded);
  auto lists = m_store.waitlists();
  if (!lists) return errorOf(lists);
  for (auto& list : *lists) {
    if (waitlistId && list.waitlistId != *waitlistId) continue;
    auto entries = m_store.waitlistEntries(list.waitlistId, false);
    if (!entries) return errorOf(entries);
    data.entries.insert(data.entries.end(), entries->begin(), entries->end());
    data.waitlists.push_back(std::move(list));
  }
  // Everyone on these lists in one query (entries of any status keep their patient, so the
  // staff board can show scheduled and removed entries too).
  auto patients = m_store.patientsOnWaitlists(waitlistId);
  if (!patients) return errorOf(patients);
  data.patients = std::move(*patients);
  return WaitlistEngine::build(std::move(data), now, m_offset);
}

// [SECTION] Priority on write

Result<WaitlistEntry> WaitlistService::addEntry(const Uuid& waitlistId, const Uuid& patientId,
                                                std::optional<Uuid> preferredProvider, const Actor& actor,
                                                Instant now) {
  WaitlistEntry entry;
  auto r = m_store.write(actor, now, [&](WriteTx& tx) -> Result<void> {
    auto active = m_store.waitlistEntries(waitlistId, true);
    if (!active) return errorOf(active);
    for (const auto& e : *active)
      if (e.patientId == patientId)
        return conflict("waitlist.already_waiting", "this patient is already on that waitlist");
    entry.entryId = m_ids.v7(time_point_cast<system_clock::duration>(now));
    entry.waitlistId = waitlistId;
    entry.patientId = patientId;
    entry.providerId = preferredProvider;
    entry.status = WaitlistEntryStatus::Waiting;
    entry.createdAt = now;
    // The store scores the entry as it writes it (one formula, one place).
    if (auto w = tx.insert(entry); !w) return w;
    auto stored = tx.get<WaitlistEntry>(entry.entryId);
    if (!stored) return errorOf(stored);
    entry = **stored;
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return entry;
}

Result<WaitlistEntry> WaitlistService::setUrgency(const Uuid& entryId, int urgency, const Actor& actor, Instant now) {
  // Urgency is a clinical judgement: the kiosk acts for the patient, so it may never set it.
  if (actor.kind != Actor::Kind::Staff && actor.kind != Actor::Kind::Admin)
    return fail(ErrorDomain::Conflict, "waitlist.urgency.staff_only", "only staff can set a patient's urgency");
  if (urgency < 0 || urgency > kMaxUrgency)
    return fail(ErrorDomain::Validation, "validation.urgency", "urgency must be between 0 and 3");
  WaitlistEntry entry;
  auto r = m_store.write(actor, now, [&](WriteTx& tx) -> Result<void> {
    auto current = tx.get<WaitlistEntry>(entryId);
    if (!current) return errorOf(current);
    if (!*current || (*current)->sync.deleted)
      return fail(ErrorDomain::NotFound, "waitlist.entry_not_found", "no waitlist entry with that id");
    entry = **current;
    entry.urgency = urgency;
    entry.urgencySetBy = actor.id;
    // The store re-scores the entry in this write.
    if (auto w = tx.update(entry); !w) return w;
    auto stored = tx.get<WaitlistEntry>(entryId);
    if (!stored) return errorOf(stored);
    entry = **stored;
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return entry;
}

Result<int> WaitlistService::recomputeAll(const Actor& actor, Instant now) {
  int changed = 0;
  auto r = m_store.write(actor, now, [&](WriteTx& tx) -> Result<void> {
    auto engine = loadEngine(now);
    if (!engine) return errorOf(engine);
    for (std::size_t i = 0; i < engine->entries().size(); ++i) {
      WaitlistEntry e = engine->entries()[i];
      if (!isActive(e.status) || engine->priorityOf(i).score == e.priorityScore) continue;
      e.priorityScore = engine->priorityOf(i).score;
      if (auto u = tx.update(e); !u) return u;
      ++changed;
    }
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return changed;
}

// [SECTION] Offer cycles

struct WaitlistService::CycleContext {
  AppointmentSlot slot;
  WaitlistEngine engine;
  std::vector<AppointmentRequest> offers;  // this slot's waitlist offers, oldest first
  std::vector<OfferCandidate> candidates;
  std::optional<Uuid> waitlistId;
  OfferCycle cycle{OfferPolicy{}};
  std::vector<OfferAction> actions;
  OfferReport report;
};

Result<OfferReport> WaitlistService::step(const Uuid& slotId, const Actor& actor, Instant now,
                                          const std::function<Result<void>(CycleContext&, WriteTx&)>& body) {
  OfferReport report;
  auto r = m_store.write(actor, now, [&](WriteTx& tx) -> Result<void> {
    auto slot = tx.get<AppointmentSlot>(slotId);
    if (!slot) return errorOf(slot);
    if (!*slot || (*slot)->sync.deleted)
      return fail(ErrorDomain::NotFound, "waitlist.slot_not_found", "no appointment slot with that id");
    // Everything is read inside the transaction, so two kiosks (or kiosk and syncd) cannot
    // both decide the same slot.
    auto engine = loadEngine(now);
    if (!engine) return errorOf(engine);
    CycleContext ctx{**slot, std::move(*engine), {}, {}, {}, OfferCycle{OfferPolicy{}}, {}, {}};
    auto requests = m_store.requestsForSlot(slotId);
    if (!requests) return errorOf(requests);
    for (auto& req : *requests)
      if (isOffer(req)) ctx.offers.push_back(std::move(req));

    // The cycle runs under the rules of one list: the list of its first offer, else of the
    // best match now.
    AppointmentSlot asOpen = ctx.slot;
    if (asOpen.status == SlotStatus::Held) asOpen.status = SlotStatus::Open;
    if (!ctx.offers.empty()) {
      if (auto i = ctx.engine.findEntry(*ctx.offers.front().waitlistEntryId))
        ctx.waitlistId = ctx.engine.entries()[*i].waitlistId;
    }
    if (!ctx.waitlistId) {
      auto best = ctx.engine.matchSlot(asOpen, 1);
      if (!best.candidates.empty()) ctx.waitlistId = ctx.engine.entries()[best.candidates.front().entryIndex].waitlistId;
    }
    WaitlistCriteria criteria;
    if (ctx.waitlistId) {
      for (const auto& list : ctx.engine.data().waitlists)
        if (list.waitlistId == *ctx.waitlistId) criteria = list.criteria;
      const auto matches = ctx.engine.matchSlot(asOpen, ctx.engine.entries().size(), ctx.waitlistId);
      for (const auto& c : matches.candidates) ctx.candidates.push_back({ctx.engine.entries()[c.entryIndex].entryId});
    }
    const OfferPolicy policy = offerPolicy(criteria, ctx.slot.startTime);
    std::vector<OfferRecord> records;
    for (const auto& req : ctx.offers) {
      // The hold is derived from when the offer was made, so it needs no column of its own.
      const Instant expires = std::min(req.createdAt + duration_cast<microseconds>(policy.hold), policy.slotStart);
      records.push_back({*req.waitlistEntryId, req.createdAt, expires, req.status});
    }
    ctx.cycle = OfferCycle::restore(policy, std::move(records), ctx.slot.status);
    ctx.report.slotId = slotId;
    ctx.report.waitlistId = ctx.waitlistId;

    if (auto b = body(ctx, tx); !b) return b;

    // Persist the actions.
    const auto offerFor = [&](const Uuid& entryId) -> AppointmentRequest* {
      for (auto it = ctx.offers.rbegin(); it != ctx.offers.rend(); ++it)
        if (it->waitlistEntryId == entryId && it->status == RequestStatus::Offered) return &*it;
      return nullptr;
    };
    const auto setSlot = [&](SlotStatus to) -> Result<void> {
      if (checkTransition(ctx.slot.status, to).kind != Transition::Legal) return {};
      ctx.slot.status = to;
      return tx.update(ctx.slot);
    };
    const auto setEntry = [&](const Uuid& entryId, WaitlistEntryStatus from, WaitlistEntryStatus to)
        -> Result<std::optional<WaitlistEntry>> {
      auto e = tx.get<WaitlistEntry>(entryId);
      if (!e) return errorOf(e);
      if (!*e) return fail(ErrorDomain::NotFound, "waitlist.entry_not_found", "no waitlist entry with that id");
      // An entry staff removed meanwhile keeps its status; the request still closes.
      if ((*e)->status != from) return std::optional<WaitlistEntry>(**e);
      WaitlistEntry next = **e;
      next.status = to;
      if (auto u = tx.update(next); !u) return errorOf(u);
      return std::optional<WaitlistEntry>(next);
    };
    const auto notify = [&](const Uuid& patientId, NotificationType type, std::string templateKey,
                            std::map<std::string, std::string> params) -> Result<void> {
      Notification note;
      note.notificationId = m_ids.v7(time_point_cast<system_clock::duration>(now));
      note.recipientId = patientId;
      note.recipientType = RecipientType::Patient;
      note.type = type;
      note.content.templateKey = std::move(templateKey);
      note.content.params = std::move(params);
      note.status = NotificationStatus::Pending;
      return tx.insert(note);
    };
    const auto closeOffer = [&](const Uuid& entryId, RequestStatus to, const char* templateKey) -> Result<void> {
      AppointmentRequest* req = offerFor(entryId);
      if (!req) return {};
      req->status = to;
      if (auto u = tx.update(*req); !u) return u;
      auto e = setEntry(entryId, WaitlistEntryStatus::Offered, WaitlistEntryStatus::Waiting);
      if (!e) return errorOf(e);
      if (!templateKey) return {};
      return notify(req->patientId, NotificationType::OfferExpired, templateKey,
                    {{"request_id", req->requestId.toString()}, {"slot_id", slotId.toString()}});
    };

    for (const auto& a : ctx.actions) {
      Result<void> done;
      switch (a.kind) {
        case OfferAction::Kind::HoldSlot: done = setSlot(SlotStatus::Held); break;
        case OfferAction::Kind::ReleaseSlot: done = setSlot(SlotStatus::Open); break;
        case OfferAction::Kind::RequestApproval: ctx.report.proposed = a.entryId; break;
        case OfferAction::Kind::ExpireOffer:
          done = closeOffer(a.entryId, RequestStatus::Expired, "waitlist_offer_expired");
          break;
        case OfferAction::Kind::DeclineOffer: done = closeOffer(a.entryId, RequestStatus::Declined, nullptr); break;
        case OfferAction::Kind::WithdrawOffer:
          done = closeOffer(a.entryId, RequestStatus::Cancelled, "waitlist_offer_withdrawn");
          break;
        case OfferAction::Kind::SendOffer: {
          auto e = tx.get<WaitlistEntry>(a.entryId);
          if (!e) return errorOf(e);
          // The engine only proposes waiting entries; this guards the invariant at the write.
          if (!*e || (*e)->status != WaitlistEntryStatus::Waiting)
            return conflict("waitlist.not_waiting", "an offer can only go to a waiting patient");
          AppointmentRequest req;
          req.requestId = m_ids.v7(time_point_cast<system_clock::duration>(now));
          req.patientId = (*e)->patientId;
          req.providerId = ctx.slot.providerId;
          req.waitlistEntryId = a.entryId;
          req.appointmentSlotId = slotId;
          req.status = RequestStatus::Offered;
          req.requestedTime = ctx.slot.startTime;
          req.createdAt = now;
          if (auto i = tx.insert(req); !i) return i;
          ctx.offers.push_back(req);
          ctx.report.requestsCreated.push_back(req.requestId);
          auto moved = setEntry(a.entryId, WaitlistEntryStatus::Waiting, WaitlistEntryStatus::Offered);
          if (!moved) return errorOf(moved);
          done = notify(req.patientId, NotificationType::SlotOffered, "waitlist_slot_offered",
                        {{"request_id", req.requestId.toString()},
                         {"slot_id", slotId.toString()},
                         {"start_time", formatInstant(ctx.slot.startTime)},
                         {"expires_at", formatInstant(a.expiresAt)}});
          break;
        }
        case OfferAction::Kind::Book: {
          AppointmentRequest* req = offerFor(a.entryId);
          if (!req) return conflict("waitlist.no_offer", "no open offer for that patient");
          req->status = RequestStatus::Accepted;
          if (auto u = tx.update(*req); !u) return u;
          req->status = RequestStatus::Confirmed;
          if (auto u = tx.update(*req); !u) return u;
          auto patient = m_store.get<Patient>(req->patientId);
          if (!patient) return errorOf(patient);
          SlotModes modes;
          for (const auto& p : ctx.engine.data().providers)
            if (p.providerId == ctx.slot.providerId)
              modes = slotModes(p, localTimeOf(ctx.slot.startTime, ctx.slot.endTime, m_offset(ctx.slot.startTime)));
          Appointment appt;
          appt.appointmentId = m_ids.v7(time_point_cast<system_clock::duration>(now));
          appt.providerId = ctx.slot.providerId;
          appt.patientId = req->patientId;
          appt.waitlistEntryId = a.entryId;
          appt.startTime = ctx.slot.startTime;
          appt.endTime = ctx.slot.endTime;
          appt.status = AppointmentStatus::Scheduled;
          appt.type = appointmentTypeFor(*patient ? (*patient)->preferences.mode : VisitMode::Either, modes);
          if (auto i = tx.insert(appt); !i) return i;
          if (auto s = setSlot(SlotStatus::Booked); !s) return s;
          auto moved = setEntry(a.entryId, WaitlistEntryStatus::Offered, WaitlistEntryStatus::Scheduled);
          if (!moved) return errorOf(moved);
          if (auto n = notify(req->patientId, NotificationType::RequestConfirmed, "waitlist_offer_confirmed",
                              {{"request_id", req->requestId.toString()},
                               {"appointment_id", appt.appointmentId.toString()},
                               {"start_time", formatInstant(appt.startTime)}});
              !n)
            return n;
          ctx.report.appointmentId = appt.appointmentId;
          break;
        }
      }
      if (!done) return done;
    }
    ctx.report.state = ctx.cycle.state();
    ctx.report.actions = ctx.actions;
    ctx.report.nextDeadline = ctx.cycle.nextDeadline();
    if (!ctx.report.proposed) ctx.report.proposed = ctx.cycle.proposed();
    report = std::move(ctx.report);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return report;
}

Result<OfferReport> WaitlistService::runOfferCycle(const Uuid& slotId, const Actor& actor, Instant now) {
  return step(slotId, actor, now, [&](CycleContext& ctx, WriteTx&) -> Result<void> {
    if (ctx.slot.status != SlotStatus::Open && ctx.slot.status != SlotStatus::Held &&
        ctx.cycle.state() != OfferState::Filled)
      return conflict("waitlist.slot_not_free", "that slot is not open");
    ctx.actions = ctx.cycle.advance(ctx.candidates, now);
    return {};
  });
}

Result<OfferRequest> WaitlistService::requestOffer(const Uuid& slotId, const Uuid& entryId, const Actor& actor,
                                                  Instant now) {
  OfferRequest out;
  auto r = m_store.write(actor, now, [&](WriteTx& tx) -> Result<void> {
    auto slot = tx.get<AppointmentSlot>(slotId);
    if (!slot) return errorOf(slot);
    if (!*slot || (*slot)->sync.deleted)
      return fail(ErrorDomain::NotFound, "waitlist.slot_not_found", "no appointment slot with that id");
    if ((*slot)->status != SlotStatus::Open) return conflict("waitlist.slot_not_free", "that slot is not open");
    auto requests = m_store.requestsForSlot(slotId);
    if (!requests) return errorOf(requests);
    for (const auto& req : *requests) {
      if (req.status == RequestStatus::Pending || req.status == RequestStatus::Offered ||
          req.status == RequestStatus::Accepted)
        return conflict("waitlist.offer_pending", "an offer for that slot is already waiting for confirmation");
    }
    auto engine = loadEngine(now);
    if (!engine) return errorOf(engine);
    const auto best = engine->matchSlot(**slot, 1);
    if (best.candidates.empty() || engine->entries()[best.candidates.front().entryIndex].entryId != entryId)
      return conflict("waitlist.match_changed", "the best match for that slot has changed; look at it again");
    const WaitlistEntry& entry = engine->entries()[best.candidates.front().entryIndex];
    AppointmentRequest req;
    req.requestId = m_ids.v7(time_point_cast<system_clock::duration>(now));
    req.patientId = entry.patientId;
    req.providerId = (*slot)->providerId;
    req.waitlistEntryId = entry.entryId;
    req.appointmentSlotId = slotId;
    req.status = RequestStatus::Pending;
    req.requestedTime = (*slot)->startTime;
    req.createdAt = now;
    if (auto i = tx.insert(req); !i) return i;
    Notification note;
    note.notificationId = m_ids.v7(time_point_cast<system_clock::duration>(now));
    note.recipientId = entry.patientId;
    note.recipientType = RecipientType::Patient;
    note.type = NotificationType::SlotOffered;
    note.content.templateKey = "waitlist_slot_offered";
    note.content.params = {{"request_id", req.requestId.toString()},
                           {"slot_id", slotId.toString()},
                           {"start_time", formatInstant((*slot)->startTime)},
                           {"awaits_confirmation", "true"}};
    note.status = NotificationStatus::Pending;
    if (auto i = tx.insert(note); !i) return i;
    out = {req.requestId, entry.entryId, note.notificationId};
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<OfferReport> WaitlistService::approveOffer(const Uuid& slotId, const Uuid& entryId, const Actor& actor,
                                                  Instant now) {
  if (actor.kind != Actor::Kind::Staff && actor.kind != Actor::Kind::Admin)
    return fail(ErrorDomain::Conflict, "waitlist.approve.staff_only", "only staff can approve an offer");
  return step(slotId, actor, now, [&](CycleContext& ctx, WriteTx&) -> Result<void> {
    auto actions = ctx.cycle.approve(entryId, ctx.candidates, now);
    if (!actions)
      return conflict("waitlist.approve.refused",
                      "that patient cannot be offered this slot (not a waiting match, already asked, or the slot is "
                      "taken)");
    ctx.actions = std::move(*actions);
    return {};
  });
}

Result<AcceptReport> WaitlistService::acceptOffer(const Uuid& requestId, const Actor& actor, Instant now) {
  auto req = m_store.get<AppointmentRequest>(requestId);
  if (!req) return errorOf(req);
  if (!*req || !(*req)->waitlistEntryId)
    return fail(ErrorDomain::NotFound, "waitlist.offer_not_found", "no waitlist offer with that id");
  AcceptReport out;
  const Uuid entryId = *(*req)->waitlistEntryId;
  auto report = step((*req)->appointmentSlotId, actor, now, [&](CycleContext& ctx, WriteTx&) -> Result<void> {
    auto result = ctx.cycle.accept(entryId, now);
    out.outcome = result.outcome;
    ctx.actions = std::move(result.actions);
    // An acceptance that arrived after the hold moves the cycle on to the next patient.
    if (out.outcome == AcceptOutcome::Expired) {
      auto next = ctx.cycle.advance(ctx.candidates, now);
      ctx.actions.insert(ctx.actions.end(), next.begin(), next.end());
    }
    return {};
  });
  if (!report) return std::unexpected(report.error());
  out.appointmentId = report->appointmentId;
  out.cycle = std::move(*report);
  return out;
}

Result<OfferReport> WaitlistService::declineOffer(const Uuid& requestId, const Actor& actor, Instant now) {
  auto req = m_store.get<AppointmentRequest>(requestId);
  if (!req) return errorOf(req);
  if (!*req || !(*req)->waitlistEntryId)
    return fail(ErrorDomain::NotFound, "waitlist.offer_not_found", "no waitlist offer with that id");
  const Uuid entryId = *(*req)->waitlistEntryId;
  return step((*req)->appointmentSlotId, actor, now, [&](CycleContext& ctx, WriteTx&) -> Result<void> {
    ctx.actions = ctx.cycle.decline(entryId, ctx.candidates, now);
    return {};
  });
}

Result<std::vector<OfferReport>> WaitlistService::tick(const Actor& actor, Instant now) {
  auto held = m_store.slotsBetween(now - days{2}, now + days{366}, SlotStatus::Held);
  if (!held) return errorOf(held);
  std::vector<OfferReport> reports;
  for (const auto& slot : *held) {
    auto r = runOfferCycle(slot.slotId, actor, now);
    if (!r) return errorOf(r);
    if (!r->actions.empty()) reports.push_back(std::move(*r));
  }
  return reports;
}

// [SECTION] Reads for the kiosk

Result<WaitEstimate> WaitlistService::estimateFor(const Uuid& entryId, Instant now) {
  auto entry = m_store.get<WaitlistEntry>(entryId);
  if (!entry) return errorOf(entry);
  if (!*entry) return fail(ErrorDomain::NotFound, "waitlist.entry_not_found", "no waitlist entry with that id");
  auto list = m_store.get<Waitlist>((*entry)->waitlistId);
  if (!list) return errorOf(list);
  if (!*list) return fail(ErrorDomain::NotFound, "waitlist.not_found", "no waitlist with that id");
  auto engine = loadEngine(now, (*entry)->waitlistId);
  if (!engine) return errorOf(engine);
  int position = 0;
  for (const auto& r : engine->rank((*entry)->waitlistId))
    if (engine->entries()[r.entryIndex].entryId == entryId) position = r.position;
  if (position == 0) return fail(ErrorDomain::Conflict, "waitlist.not_active", "that entry is no longer waiting");
  auto all = m_store.waitlistEntries((*entry)->waitlistId, false);
  if (!all) return errorOf(all);
  // When an entry was scheduled is its last update; close enough for a weekly rate.
  std::vector<Instant> fills;
  for (const auto& e : *all)
    if (e.status == WaitlistEntryStatus::Scheduled) fills.push_back(e.updatedAt);
  return estimateWait(position, fills, (*list)->createdAt, now);
}

Result<std::vector<AppointmentSlot>> WaitlistService::sameDaySlots(const Patient& patient,
                                                                   std::optional<Uuid> preferredProvider, Instant now,
                                                                   Instant until) {
  auto data = practiceData();
  if (!data) return errorOf(data);
  const auto engine = WaitlistEngine::build(std::move(*data), now, m_offset);
  auto slots = m_store.slotsBetween(now, until, SlotStatus::Open);
  if (!slots) return errorOf(slots);
  std::vector<AppointmentSlot> out;
  for (const auto& fit : engine.sameDay(patient, preferredProvider, *slots)) out.push_back((*slots)[fit.slotIndex]);
  return out;
}

}  // namespace anteroom::store
