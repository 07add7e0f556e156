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
for group in "keygen" "store init" "demo seed" "waitlist rank" "waitlist match" "central migrate" "central status"; do
  expect 0 "  $group"                       -- --help
done
expect 2 'no command given'                 --
expect 2 "unknown command 'frobnicate'"     -- frobnicate
for cmd in "keygen" "store" "demo" "waitlist" "central"; do
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
expect 1 'must hold exactly 64 hex'         -- store check --db "$dir/s.db" --key-file "$dir/bad.key"
expect 1 'cannot read the key file'         -- store check --db "$dir/s.db" --key-file "$dir/missing.key"
expect 0 're-encrypted'                     -- store rekey --db "$dir/s.db" --key-file "$dir/k" --new-key-file "$dir/other"
expect 1 'wrong key'                        -- store check --db "$dir/s.db" --key-file "$dir/k"
expect 0 'integrity: +ok'                   -- store check --db "$dir/s.db" --key-file "$dir/other"
expect 2 'between 0 and 60'                 -- store purge --db "$dir/s.db" --key-file "$dir/other" --days-ahead 99
expect 0 'kept for pending sync'            -- store purge --db "$dir/s.db" --key-file "$dir/other"
head -c 20000 /dev/urandom >"$dir/junk.db"
expect 1 'wrong key or not an Anteroom store' -- store check --db "$dir/junk.db" --key-file "$dir/other"
expect 0 'waiting'                          -- waitlist rank --db "$dir/s.db" --key-file "$dir/other"
expect 2 '--slot'                           -- waitlist match --db "$dir/s.db" --key-file "$dir/other"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
