#!/usr/bin/env bash
# Debian's own sqlcipher shell opens a store made by anteroom-admin with its key, and cannot
# without it (or with another key). Usage: sqlcipher_shell.sh ADMIN_BINARY
set -euo pipefail
admin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
command -v sqlcipher >/dev/null || { echo "FAIL: the sqlcipher shell is not installed (scripts/deps installs it)"; exit 1; }
"$admin" keygen --out "$dir/k" >/dev/null
"$admin" keygen --out "$dir/other" >/dev/null
"$admin" demo seed --db "$dir/s.db" --key-file "$dir/k" --patients 25 --seed 3 >/dev/null

query() { # key-file-or-empty
  {
    [ -n "$1" ] && printf 'PRAGMA key = "x'"'"'%s'"'"'";\nPRAGMA cipher_page_size = 4096;\n' "$(tr -d '\n' <"$1")"
    printf 'SELECT count(*) FROM patient;\n'
  } | sqlcipher "$dir/s.db" 2>&1
}

out=$(query "$dir/k")
[ "$out" = "25" ] || { echo "FAIL: with the key, expected 25 patients, got: $out"; exit 1; }
out=$(query "") || true
grep -q "not a database\|encrypted" <<<"$out" || { echo "FAIL: without a key the shell read: $out"; exit 1; }
out=$(query "$dir/other") || true
grep -q "not a database\|encrypted" <<<"$out" || { echo "FAIL: with another key the shell read: $out"; exit 1; }
echo "1 passed, 0 failed"
