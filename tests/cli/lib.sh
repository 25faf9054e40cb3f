# SPDX-License-Identifier: LGPL-2.1-only
# A tiny assertion library for the CLI test scripts. Each script ends with
# `finish`, which prints "N passed, M failed" and exits non-zero on failure.
passed=0
failed=0

_fail() {
  failed=$((failed + 1))
  printf 'FAIL: %s\n' "$*" >&2
}

expect_eq() { # name got want
  if [ "$2" == "$3" ]; then passed=$((passed + 1)); else _fail "$1: got '$2', want '$3'"; fi
}

expect_match() { # name text regex
  if grep -Eq -- "$3" <<<"$2"; then passed=$((passed + 1)); else _fail "$1: '$2' does not match /$3/"; fi
}

# expect_fail name status stderr-substring cmd...: exit status, a one-line
# message on stderr containing the substring, and nothing on stdout.
expect_fail() {
  local name=$1 want=$2 needle=$3
  shift 3
  local out err status
  err=$(mktemp)
  out=$("$@" 2>"$err")
  status=$?
  local msg
  msg=$(cat "$err")
  rm -f "$err"
  if [ "$status" -ne "$want" ]; then
    _fail "$name: exit $status, want $want (stderr: $msg)"
  elif [ -n "$out" ]; then
    _fail "$name: printed on stdout: $out"
  elif [ "$(wc -l <<<"$msg")" -ne 1 ] || ! grep -qF -- "$needle" <<<"$msg"; then
    _fail "$name: stderr '$msg' lacks '$needle' or is not one line"
  else
    passed=$((passed + 1))
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
