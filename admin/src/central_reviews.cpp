// The open walk-in reviews of a practice, read across row-level security by the superuser.
#include "central_reviews.hpp"

#include <pqxx/pqxx>

#include "central_connection.hpp"
#include "central_migrations.hpp"

namespace anteroom::admin::central {

namespace {

// One statement for every review: the walk-in's values come from its encrypted mutation, the
// existing patient from the email's lookup hash. Keys are bind parameters ($2, $3) only.
constexpr const char* kReviewsSql =
    "SELECT r.review_id::text, r.device_id::text, d.name, to_char(r.created_at, 'YYYY-MM-DD HH24:MI \"UTC\"'), r.reason,"
    " (SELECT count(*) FROM walkin_review_held h WHERE h.review_id = r.review_id),"
    " w.j->>'first_name', w.j->>'last_name', w.j->>'date_of_birth', w.j->>'email',"
    " p.patient_id::text, p.deleted, pii_decrypt(p.first_name, $2), pii_decrypt(p.last_name, $2),"
    " pii_decrypt(p.date_of_birth, $2)"
    " FROM walkin_review r JOIN device d ON d.device_id = r.device_id"
    " CROSS JOIN LATERAL (SELECT CASE WHEN $2::text IS NULL THEN NULL ELSE pii_decrypt(r.payload, $2)::jsonb END AS j) w"
    " LEFT JOIN patient p ON $3::text IS NOT NULL AND p.email_hash = pii_lookup_hash(w.j->>'email', $3)"
    " WHERE r.practice_id = $1::uuid AND r.status = 'open' ORDER BY r.created_at, r.review_id";

std::optional<ReviewPerson> personAt(const pqxx::row& r, int first) {
  if (r[first].is_null()) return std::nullopt;
  return ReviewPerson{r[first].c_str(), r[first + 1].c_str(), r[first + 2].is_null() ? "" : r[first + 2].c_str()};
}

}  // namespace

Result<std::vector<OpenReview>> openReviews(const std::string& dsn, const std::string& practiceId,
                                            const std::optional<ReviewKeys>& keys) {
  auto connected = connectCentral(dsn);
  if (!connected) return std::unexpected(connected.error());
  try {
    pqxx::read_transaction tx(**connected);
    if (auto s = requireSuperuser(tx); !s) return std::unexpected(s.error());
    if (tx.exec_params("SELECT 1 FROM practice WHERE practice_id = $1::uuid", practiceId).empty()) {
      return fail(ErrorDomain::NotFound, "review.unknown_practice",
                  "there is no practice " + practiceId + " in the central database");
    }
    const std::optional<std::string> pii = keys ? std::optional(keys->piiKey) : std::nullopt;
    const std::optional<std::string> hash = keys ? std::optional(keys->hashKey) : std::nullopt;
    std::vector<OpenReview> out;
    for (const auto& r : tx.exec_params(kReviewsSql, practiceId, pii, hash)) {
      OpenReview review;
      review.reviewId = r[0].c_str();
      review.deviceId = r[1].c_str();
      review.deviceName = r[2].c_str();
      review.createdAt = r[3].c_str();
      review.reason = r[4].c_str();
      review.heldMutations = r[5].as<std::size_t>();
      review.walkIn = personAt(r, 6);
      review.email = r[9].is_null() ? "" : r[9].c_str();
      if (!r[10].is_null()) {
        review.existingPatientId = r[10].c_str();
        review.existingDeleted = r[11].as<bool>();
        review.existing = personAt(r, 12);
      }
      out.push_back(std::move(review));
    }
    return out;
  } catch (const pqxx::broken_connection& e) {
    return connectFailed(e);
  } catch (const std::exception& e) {
    // The statement carries keys only as parameters, so the message quotes none.
    return fail(ErrorDomain::Store, "review.list", "cannot read the walk-in reviews: " + firstLine(e.what()));
  }
}

Result<void> checkSuperuser(const std::string& dsn) {
  auto connected = connectCentral(dsn);
  if (!connected) return std::unexpected(connected.error());
  try {
    pqxx::read_transaction tx(**connected);
    return requireSuperuser(tx);
  } catch (const pqxx::broken_connection& e) {
    return connectFailed(e);
  } catch (const std::exception& e) {
    return fail(ErrorDomain::Store, "central.role", "cannot check the database role: " + firstLine(e.what()));
  }
}

}  // namespace anteroom::admin::central
