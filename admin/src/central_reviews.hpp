// The walk-in review queue of the central database (walkin_review, migrations/central/0007 and
// 0009) as staff read it, behind 'anteroom-admin review list'. Resolving goes through the hub
// core (sync/hub: HubCore::resolveReview), which applies the held mutations as a push would.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "anteroom/model/error.hpp"

namespace anteroom::admin::central {

// Who a side of a review is, decrypted with the PII key (PHI: printed for staff, never logged).
struct ReviewPerson {
  std::string firstName, lastName, dateOfBirth;  // dateOfBirth as YYYY-MM-DD
};

struct OpenReview {
  std::string reviewId;
  std::string deviceId, deviceName;
  std::string createdAt;  // "YYYY-MM-DD HH:MM UTC"
  std::string reason;     // e.g. email_in_use
  std::size_t heldMutations = 0;
  // With the keys only: the walk-in as typed, and the patient who has its email.
  std::optional<ReviewPerson> walkIn;
  std::string email;
  std::optional<std::string> existingPatientId;  // none: nobody has the email any more
  std::optional<ReviewPerson> existing;
  bool existingDeleted = false;
};

struct ReviewKeys {
  std::string piiKey;   // 64 hex characters: decrypts both sides
  std::string hashKey;  // 64 hex characters: finds the patient by the walk-in's email
};

// The practice's open reviews, oldest first. Without keys, the ids, device, time, reason and
// count only. The DSN's role must be a superuser (row-level security hides every practice from
// anyone else). Errors: central.connect (transient), central.not_superuser,
// review.unknown_practice, review.list.
Result<std::vector<OpenReview>> openReviews(const std::string& dsn, const std::string& practiceId,
                                            const std::optional<ReviewKeys>& keys);

// Refuses a role that is not a superuser before a resolution is attempted.
// Errors: central.connect (transient), central.not_superuser.
Result<void> checkSuperuser(const std::string& dsn);

}  // namespace anteroom::admin::central
