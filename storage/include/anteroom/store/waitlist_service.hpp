// The store-driven side of the waitlist engine: loads what the engine needs, keeps
// priority_score current on every write that changes an input, and runs offer cycles.
#pragma once

#include <optional>
#include <vector>

#include "anteroom/model/waitlist_engine.hpp"
#include "anteroom/model/waitlist_offers.hpp"
#include "anteroom/store/local_time.hpp"
#include "anteroom/store/store.hpp"

namespace anteroom::store {

// What one offer-cycle step did, for the caller's screen and logs (ids only, no PHI).
struct OfferReport {
  Uuid slotId;
  std::optional<Uuid> waitlistId;  // the list whose rules run this slot's cycle
  OfferState state = OfferState::Idle;
  std::vector<OfferAction> actions;
  std::vector<Uuid> requestsCreated;  // offers sent in this step
  std::optional<Uuid> appointmentId;  // the appointment an accepted offer became
  std::optional<Uuid> proposed;  // staff approval mode: who staff are asked to approve
  std::optional<Instant> nextDeadline;
};

// An offer made on a device: a request the hub confirms or rejects (DESIGN 5.3), and the
// patient's message, queued until then. Nothing is booked or held locally.
struct OfferRequest {
  Uuid requestId;
  Uuid entryId;
  Uuid notificationId;
};

struct AcceptReport {
  AcceptOutcome outcome = AcceptOutcome::NotOffered;
  std::optional<Uuid> appointmentId;
  OfferReport cycle;
};

class WaitlistService {
 public:
  explicit WaitlistService(Store& store, UtcOffsetFn offset = deviceUtcOffset)
      : m_store(store), m_offset(std::move(offset)) {}

  // Everything for ranking and matching: all waitlists (or one), their entries (all statuses,
  // so scheduled ones count for history), patients on them, providers, practice settings.
  Result<WaitlistEngine> loadEngine(Instant now, std::optional<Uuid> waitlistId = std::nullopt);

  // [SECTION] Writes that change a priority input. The store scores an entry whenever it is
  // written and re-scores a patient's or a list's entries when those change, in the same
  // transaction, so the outbox carries the new score with the change.
  // A new entry (status waiting). Fails when the patient already has an active entry there.
  Result<WaitlistEntry> addEntry(const Uuid& waitlistId, const Uuid& patientId, std::optional<Uuid> preferredProvider,
                                 const Actor& actor, Instant now);
  // Clinical urgency 0..3. Only staff (or an operator) may set it; a kiosk (patient) actor is
  // refused, whatever the patient's screening said.
  Result<WaitlistEntry> setUrgency(const Uuid& entryId, int urgency, const Actor& actor, Instant now);
  // Days waiting grow daily: recomputes every active entry, writing only scores that changed.
  // Returns how many changed.
  Result<int> recomputeAll(const Actor& actor, Instant now);

  // [SECTION] Offers
  // Starts or moves on the cycle for a freed (open or held) slot: expires lapsed holds and
  // offers to the next best waiting match under the list's rules.
  Result<OfferReport> runOfferCycle(const Uuid& slotId, const Actor& actor, Instant now);
  // Staff approval: offer the slot to entryId (must be a waiting match not yet asked).
  Result<OfferReport> approveOffer(const Uuid& slotId, const Uuid& entryId, const Actor& actor, Instant now);
  // The patient's answer to an offer (by request id). The first acceptance wins; later ones
  // are TooLate. Acceptance books the slot and creates the appointment.
  Result<AcceptReport> acceptOffer(const Uuid& requestId, const Actor& actor, Instant now);
  Result<OfferReport> declineOffer(const Uuid& requestId, const Actor& actor, Instant now);
  // A device's offer of an open slot to `entryId`, which must still be the slot's best waiting
  // match (staff saw it and confirmed): a pending AppointmentRequest plus a pending
  // Notification to the patient, in one write. Refused while another request for the slot is
  // open. The hub books the slot (or rejects the request); the kiosk never does.
  Result<OfferRequest> requestOffer(const Uuid& slotId, const Uuid& entryId, const Actor& actor, Instant now);
  // Advances every held slot in the data window (call every minute or so).
  Result<std::vector<OfferReport>> tick(const Actor& actor, Instant now);

  // [SECTION] Reads for the kiosk
  Result<WaitEstimate> estimateFor(const Uuid& entryId, Instant now);
  // Today's open slots (from now to `until`) for a walk-in, best first.
  Result<std::vector<AppointmentSlot>> sameDaySlots(const Patient& patient, std::optional<Uuid> preferredProvider,
                                                    Instant now, Instant until);

 private:
  struct CycleContext;
  Result<OfferReport> step(const Uuid& slotId, const Actor& actor, Instant now,
                           const std::function<Result<void>(CycleContext&, WriteTx&)>& body);
  // Practice settings and providers: what every engine needs.
  Result<EngineData> practiceData();

  Store& m_store;
  UtcOffsetFn m_offset;
  UuidGenerator m_ids;
};

}  // namespace anteroom::store
