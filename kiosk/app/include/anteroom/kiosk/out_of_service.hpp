// What the lobby sees when the kiosk cannot open its store (a wrong or missing key, a damaged
// file): a calm "please see the front desk" screen with the crisis line, in either language,
// while the kiosk retries in the background. The reason goes to the journal, not the screen.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "anteroom/kiosk/i18n.hpp"
#include "anteroom/kiosk/intents.hpp"
#include "anteroom/kiosk/view_model.hpp"
#include "anteroom/model/time.hpp"

namespace anteroom::kiosk {

class OutOfService {
 public:
  static constexpr std::chrono::seconds kRetryEvery{30};

  OutOfService(Translator translator, std::string crisisLine, Instant now);

  void apply(const Intent& intent, Instant now);
  void applyAll(const Intents& intents, Instant now);
  void tick(Instant now);
  [[nodiscard]] std::optional<Instant> nextDeadline() const;
  [[nodiscard]] const FrameVm& frame() const;
  [[nodiscard]] std::uint64_t revision() const { return m_revision; }
  // True once per retry interval: time to try opening the store again.
  [[nodiscard]] bool retryDue() const { return m_retryDue; }
  void retried(Instant now);

 private:
  Translator m_tr;
  std::string m_crisisLine;
  Instant m_nextRetry{};
  bool m_retryDue = false;
  bool m_highContrast = false;
  int m_textSizeStep = 0;
  std::uint64_t m_revision = 1;
  mutable std::uint64_t m_built = 0;
  mutable FrameVm m_frame;
};

}  // namespace anteroom::kiosk
