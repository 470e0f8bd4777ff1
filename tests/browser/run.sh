#!/usr/bin/env bash
# End-to-end test of the HTML report in a real browser: builds driftgate (debug), runs
# the offline demo and a suite full of hostile strings, then opens both reports from
# disk in headless Chromium (check.mjs). Saves a screenshot of the demo report to
# target/report-screenshot.png. Exits non-zero with a message on any failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

fail() { printf 'browser test FAILED: %s\n' "$*" >&2; exit 1; }
say() { printf 'browser test: %s\n' "$*"; }

# Debian's chromium: npm's own browser download cannot reach its host from CI.
if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium with apt-get"
  command -v apt-get >/dev/null || fail "/usr/bin/chromium is missing and apt-get is not available"
  apt-get update -qq || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || fail "apt-get install chromium failed"
fi
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is still missing after installing"
if ! command -v npm >/dev/null; then
  say "installing node and npm with apt-get"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null \
    || fail "cannot install nodejs and npm"
fi

say "npm ci (playwright-core)"
(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) \
  || fail "npm ci in tests/browser failed"

# `cargo test --no-run` builds the binary with the same dependency features as the
# test run before it, so CI compiles the dependencies once, not twice.
say "cargo test --no-run"
cargo test --no-run --quiet --locked || fail "cargo build failed"
target_dir=${CARGO_TARGET_DIR:-$root/target}
bin="$target_dir/debug/driftgate"
[ -x "$bin" ] || fail "no binary at $bin"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say "running the demo suite"
set +e
DRIFTGATE_SIM_DATE=2026-12-01 "$bin" run suites/demo.yaml --out "$tmp/reports/demo" -q >"$tmp/demo.log" 2>&1
status=$?
set -e
[ "$status" -eq 1 ] || { cat "$tmp/demo.log" >&2; fail "demo run exited $status, expected 1 (drift)"; }

# An earlier night in the history, re-rendered with `driftgate report`, so the page
# draws its trend lines.
hist="$tmp/reports/history.jsonl"
[ -s "$hist" ] || fail "the demo run did not append to $hist"
sed -e 's/"run_id":"[^"]*"/"run_id":"earlier-night"/' \
    -e 's/"started_at":"[^"]*"/"started_at":"2000-01-01T00:00:00Z"/' "$hist" >"$tmp/earlier.jsonl"
cat "$tmp/earlier.jsonl" "$hist" >"$tmp/history.jsonl" && mv "$tmp/history.jsonl" "$hist"
"$bin" report "$tmp/reports/demo" -q >"$tmp/report.log" 2>&1 \
  || { cat "$tmp/report.log" >&2; fail "driftgate report failed on the demo run"; }

say "running a suite of hostile strings"
mkdir -p "$tmp/hostile"
cp -r suites/refs "$tmp/hostile/refs"
cat >"$tmp/hostile/hostile.yaml" <<'YAML'
# Every user string carries markup that would run or fetch if it were not escaped.
suite: hostile
model: { provider: sim, endpoint: sim/product-shots, version: "1" }
defaults:
  size: { width: 96, height: 96 }
  seed: 3
  samples: 2
  params: { noise: 0.5 }
thresholds:
  ssim: { min: 0.9 }
  delta_e: { max_delta_e: 3.0 }
cases:
  - id: script-prompt
    prompt: '<script>window.__pwned="prompt"</script><img src=x onerror="window.__pwned=1"> gold watch'
    references: [refs/bottle.png]
    tags: ['<img src=x onerror=window.__pwned=2>', 'tag"><script>window.__pwned=3</script>']
    params:
      style: '</code><script>window.__pwned=4</script><img src="https://example.com/x.png">'
      '<b onmouseover=alert(1)>key</b>': '"><svg onload=window.__pwned=5>'
  - id: plain-case
    prompt: teal headphones on a grey desk
YAML
DRIFTGATE_SIM_BUILD=1 "$bin" record "$tmp/hostile/hostile.yaml" --baselines "$tmp/hostile/baselines" -q \
  >"$tmp/record.log" 2>&1 || { cat "$tmp/record.log" >&2; fail "recording the hostile suite failed"; }
set +e
DRIFTGATE_SIM_BUILD=2 "$bin" run "$tmp/hostile/hostile.yaml" --baselines "$tmp/hostile/baselines" \
  --out "$tmp/reports/hostile" -q >"$tmp/hostile.log" 2>&1
status=$?
set -e
[ "$status" -eq 1 ] || { cat "$tmp/hostile.log" >&2; fail "hostile run exited $status, expected 1 (drift)"; }

say "opening the reports in Chromium"
mkdir -p "$target_dir"
node "$here/check.mjs" "$tmp/reports/demo/index.html" "$tmp/reports/hostile/index.html" \
  "$target_dir/report-screenshot.png" || fail "checks in the browser failed (see above)"
say "ok; screenshot in $target_dir/report-screenshot.png"
