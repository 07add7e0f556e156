// The out-of-service screen: patients are sent to the front desk, kindly, in their language.
#include "anteroom/kiosk/out_of_service.hpp"

namespace anteroom::kiosk {

OutOfService::OutOfService(Translator translator, std::string crisisLine, Instant now)
    : m_tr(std::move(translator)), m_crisisLine(std::move(crisisLine)), m_nextRetry(now + kRetryEvery) {}

void OutOfService::apply(const Intent& intent, Instant) {
  if (intent.kind != Intent::Kind::Press) return;
  if (intent.id == "welcome.language") m_tr.setLanguage(m_tr.language() == "en" ? "es" : "en");
  else if (intent.id == "welcome.text_size") m_textSizeStep = (m_textSizeStep + 1) % kTextSizeSteps;
  else if (intent.id == "welcome.contrast") m_highContrast = !m_highContrast;
  else return;
  ++m_revision;
}

void OutOfService::applyAll(const Intents& intents, Instant now) {
  for (const auto& i : intents) apply(i, now);
}

void OutOfService::tick(Instant now) { m_retryDue = now >= m_nextRetry; }

void OutOfService::retried(Instant now) {
  m_retryDue = false;
  m_nextRetry = now + kRetryEvery;
}

std::optional<Instant> OutOfService::nextDeadline() const { return m_nextRetry; }

const FrameVm& OutOfService::frame() const {
  if (m_built == m_revision) return m_frame;
  FrameVm f;
  f.crisisLine = m_tr.tr("chrome.crisis_line", {{"number", m_crisisLine}});
  f.highContrast = m_highContrast;
  f.textScale = textScaleFor(m_textSizeStep);
  f.language = m_tr.language();
  f.screen.id = "out_of_service";
  f.screen.title = m_tr.tr("out_of_service.title");
  f.screen.body = {m_tr.tr("out_of_service.body")};
  f.screen.actions = {
      {"welcome.language", m_tr.tr("chrome.language_toggle"), ButtonStyle::Secondary, true, false},
      {"welcome.text_size", m_tr.tr("chrome.text_size", {{"percent", std::to_string(textPercentFor(m_textSizeStep))}}),
       ButtonStyle::Secondary, true, false},
      {"welcome.contrast", m_tr.tr("chrome.contrast"), ButtonStyle::Secondary, true, m_highContrast},
  };
  m_frame = std::move(f);
  m_built = m_revision;
  return m_frame;
}

}  // namespace anteroom::kiosk
