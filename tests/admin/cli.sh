#!/usr/bin/env bash
# anteroom-admin as an operator meets it: --help everywhere, exit 0 / 1 (failed) / 2 (bad usage),
# one clear line on error. Usage: cli.sh ADMIN_BINARY
set -uo pipefail
admin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0
failed=0

# expect CODE PATTERN -- ARGS...: exit code and a pattern in stdout+stderr.
expect() {
  local code=$1 pattern=$2
  shift 3
  local out rc
  out=$("$admin" "$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: anteroom-admin $* -> exit $rc (want $code), output:"
    sed 's/^/    /' <<<"$out"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}
# The first line of stderr is the whole error: exactly one line before any usage text.
one_line() {
  local lines
  lines=$("$admin" "$@" 2>&1 >/dev/null | grep -c '^anteroom-admin:')
  if [ "$lines" -ne 1 ]; then
    echo "FAIL: anteroom-admin $* printed $lines error lines"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

expect 0 'usage: anteroom-admin'            -- --help
# The top-level help names every command group.
for group in "keygen" "store init" "demo seed" "waitlist rank" "waitlist match" "central migrate" "central status" \
             "ca init" "device enroll" "device revoke" "demo seed-central"; do
  expect 0 "  $group"                       -- --help
done
expect 2 'no command given'                 --
expect 2 "unknown command 'frobnicate'"     -- frobnicate
for cmd in "keygen" "store" "demo" "waitlist" "central" "ca" "device" "demo seed-central"; do
  expect 0 'usage:'                         -- $cmd --help
done
expect 0 'usage:'                           -- store check --help
expect 2 '--out is required'                -- keygen
expect 2 'unknown option --bogus'           -- keygen --out "$dir/k" --bogus
expect 0 'wrote a new store key'            -- keygen --out "$dir/k"
expect 1 'already exists; refusing'         -- keygen --out "$dir/k"
[ "$(stat -c %a "$dir/k")" = 600 ] && passed=$((passed + 1)) || { echo "FAIL: key file mode"; failed=$((failed + 1)); }
expect 2 '--db is required'                 -- store init --key-file "$dir/k"
expect 2 "unknown store subcommand"         -- store explode --db "$dir/s.db" --key-file "$dir/k"
expect 1 'no store at'                      -- store check --db "$dir/s.db" --key-file "$dir/k"
expect 0 'store ready'                      -- store init --db "$dir/s.db" --key-file "$dir/k"
expect 0 'integrity: +ok'                   -- store check --db "$dir/s.db" --key-file "$dir/k"
expect 2 'whole numbers'                    -- demo seed --db "$dir/s.db" --key-file "$dir/k" --patients many
expect 2 'between 1 and 1000000'            -- demo seed --db "$dir/s.db" --key-file "$dir/k" --patients 0
expect 0 'demo practice seeded: 6 providers, 20 patients' -- demo seed --db "$dir/s.db" --key-file "$dir/k" --patients 20
"$admin" keygen --out "$dir/other" >/dev/null
expect 1 'wrong key or not an Anteroom store' -- store check --db "$dir/s.db" --key-file "$dir/other"
one_line store check --db "$dir/s.db" --key-file "$dir/other"
printf 'not hex at all\n' >"$dir/bad.key"
chmod 600 "$dir/bad.key"
expect 1 'must hold exactly 64 hex'         -- store check --db "$dir/s.db" --key-file "$dir/bad.key"
expect 1 'cannot read the key file'         -- store check --db "$dir/s.db" --key-file "$dir/missing.key"
expect 0 're-encrypted'                     -- store rekey --db "$dir/s.db" --key-file "$dir/k" --new-key-file "$dir/other"
expect 1 'wrong key'                        -- store check --db "$dir/s.db" --key-file "$dir/k"
expect 0 'integrity: +ok'                   -- store check --db "$dir/s.db" --key-file "$dir/other"
expect 2 'between 0 and 60'                 -- store purge --db "$dir/s.db" --key-file "$dir/other" --days-ahead 99
expect 0 'kept for pending sync'            -- store purge --db "$dir/s.db" --key-file "$dir/other"
head -c 20480 /dev/urandom >"$dir/junk.db"
expect 1 'wrong key or not an Anteroom store' -- store check --db "$dir/junk.db" --key-file "$dir/other"
expect 0 'waiting'                          -- waitlist rank --db "$dir/s.db" --key-file "$dir/other"
expect 2 '--slot'                           -- waitlist match --db "$dir/s.db" --key-file "$dir/other"

# Only one line, whatever the damage: the whole stderr and stdout together.
lines_exactly() {
  local want=$1
  shift
  local n
  n=$("$admin" "$@" 2>&1 | wc -l)
  if [ "$n" -ne "$want" ]; then
    echo "FAIL: anteroom-admin $* printed $n lines (want $want)"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

# Key files others can read are refused; a store others can read is used with a warning.
cp "$dir/other" "$dir/open.key"
chmod 644 "$dir/open.key"
expect 1 'open to other users .mode 0644.; refusing to use it: run chmod 600' -- store check --db "$dir/s.db" --key-file "$dir/open.key"
chmod 644 "$dir/s.db"
expect 0 'warning: the store file .* is readable by other users' -- store check --db "$dir/s.db" --key-file "$dir/other"
chmod 600 "$dir/s.db"

# A damaged page (page 40 of a 300-patient store, as the audit did) is one line saying what is
# wrong and what to do (how many pages, when the scan can count them: tests/store/test_open.cpp).
"$admin" demo seed --db "$dir/d.db" --key-file "$dir/k" --patients 300 >/dev/null
cp "$dir/d.db" "$dir/d-backup.db"
head -c 4096 /dev/urandom | dd of="$dir/d.db" bs=4096 seek=39 count=1 conv=notrunc status=none
expect 1 'the store is damaged: .*; restore it from the server by re-provisioning' -- store check --db "$dir/d.db" --key-file "$dir/k"
lines_exactly 1 store check --db "$dir/d.db" --key-file "$dir/k"
# ...and nothing writes into it any more.
expect 1 'damaged and takes no more changes'   -- store init --db "$dir/d.db" --key-file "$dir/k"
expect 1 'damaged and takes no more changes'   -- demo seed --db "$dir/d.db" --key-file "$dir/k" --patients 5
expect 1 'damaged and takes no more changes'   -- waitlist rank --db "$dir/d.db" --key-file "$dir/k"
# A store restored from its backup passes the check, which clears the mark.
cp "$dir/d-backup.db" "$dir/d.db"
expect 0 'integrity: +ok'                      -- store check --db "$dir/d.db" --key-file "$dir/k"
expect 0 'store ready'                         -- store init --db "$dir/d.db" --key-file "$dir/k"

# A store cut to 1,000 bytes is damaged, not a key problem; a damaged first page is told apart
# from a wrong key by a backup the key opens.
head -c 1000 "$dir/d-backup.db" >"$dir/cut.db"
expect 1 'size \(1000 bytes\) is not a whole number of 4096-byte pages' -- store check --db "$dir/cut.db" --key-file "$dir/k"
cp "$dir/d-backup.db" "$dir/p1.db"
head -c 64 /dev/urandom | dd of="$dir/p1.db" bs=1 seek=100 conv=notrunc status=none
expect 1 'or its first page is damaged'        -- store check --db "$dir/p1.db" --key-file "$dir/k"
expect 1 'the key is right \(it opens the backup .*\), so the store.s first page is damaged' -- store check --db "$dir/p1.db" --key-file "$dir/k" --backup "$dir/d-backup.db"
expect 1 'opens neither the store nor the backup' -- store check --db "$dir/p1.db" --key-file "$dir/other" --backup "$dir/d-backup.db"
ls "$dir"/d-backup.db.probe-* >/dev/null 2>&1 && { echo "FAIL: a probe copy was left behind"; failed=$((failed + 1)); }

# Opening an up-to-date store reads its schema version without the write lock: a writer holding
# it for 8 s (past the 5 s busy timeout) does not stop a read-only command.
printf '%s\n' "PRAGMA key = \"x'$(cat "$dir/k")'\";" 'PRAGMA cipher_page_size = 4096;' 'BEGIN IMMEDIATE;' \
  "INSERT INTO sync_state VALUES ('held', 'x', '2026-01-01T00:00:00.000000Z');" '.system sleep 8' 'COMMIT;' |
  sqlcipher "$dir/d.db" >/dev/null 2>&1 &
holder=$!
sleep 1
expect 0 'integrity: +ok'                      -- store check --db "$dir/d.db" --key-file "$dir/k"
wait "$holder"

# Provisioning without a database (tests/admin/test_provision.cpp runs it against PostgreSQL).
expect 2 'ca needs a subcommand'               -- ca
expect 2 "unknown ca subcommand 'make'"        -- ca make --dir "$dir/ca"
expect 2 '--hub-host is required'           -- ca init --dir "$dir/ca"
expect 0 'hub key pin'                         -- ca init --dir "$dir/ca" --hub-host 127.0.0.1
expect 1 'already holds a CA'                  -- ca init --dir "$dir/ca" --hub-host 127.0.0.1
one_line                                           ca init --dir "$dir/ca" --hub-host 127.0.0.1
expect 2 'device needs a subcommand'           -- device
expect 2 '--practice-id is required'        -- device enroll --ca-dir "$dir/ca" --dsn x --out "$dir/e"
expect 2 '--practice-id must be a UUID'     -- device enroll --ca-dir "$dir/ca" --dsn x --out "$dir/e" --practice-id 12
expect 1 'make it with .anteroom-admin ca init' -- device enroll --ca-dir "$dir/none" --dsn x --out "$dir/e" \
                                                   --practice-id 01890000-0000-7000-8000-000000000000
expect 2 '--device-id is required'          -- device revoke --dsn x
expect 2 '--hash-key-file is required'      -- demo seed-central --dsn x --pii-key-file "$dir/k"
[ -e "$dir/e" ] && { echo "FAIL: a refused enrollment left $dir/e behind"; failed=$((failed + 1)); }

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
