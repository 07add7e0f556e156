// Child process for the crash test: loops writes and prints each id only after its
// transaction committed, so the parent knows exactly what was acknowledged before SIGKILL.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "anteroom/store/store.hpp"

using namespace anteroom;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: anteroom-crash-writer DB KEYFILE PROVIDER_ID PATIENT_ID\n");
    return 2;
  }
  auto key = store::SecretKey::readFile(argv[2]);
  if (!key) return std::fprintf(stderr, "%s\n", key.error().message.c_str()), 1;
  store::OpenOptions options;
  options.path = argv[1];
  auto s = store::Store::open(options, *key);
  if (!s) return std::fprintf(stderr, "%s\n", s.error().message.c_str()), 1;
  const auto provider = Uuid::parse(argv[3]);
  const auto patient = Uuid::parse(argv[4]);
  if (!provider || !patient) return 2;

  UuidGenerator ids;
  for (int i = 0; i < 100000; ++i) {
    Appointment a;
    a.appointmentId = ids.v7(std::chrono::system_clock::now());
    a.providerId = *provider;
    a.patientId = *patient;
    a.startTime = nowUtc() + std::chrono::hours{1};
    a.endTime = a.startTime + std::chrono::minutes{50};
    if (auto r = s->insert(a, store::Actor::kiosk()); !r) {
      if (r.error().isTransient()) continue;
      return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
    }
    std::string line = "inserted " + a.appointmentId.toString() + "\n";
    if (::write(1, line.data(), line.size()) < 0) return 1;
    if (auto r = s->checkIn(a.appointmentId, store::Actor::kiosk(), nowUtc()); !r) {
      if (r.error().isTransient()) continue;
      return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
    }
    line = "checked_in " + a.appointmentId.toString() + "\n";
    if (::write(1, line.data(), line.size()) < 0) return 1;
  }
  return 0;
}
