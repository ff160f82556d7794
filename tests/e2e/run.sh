#!/usr/bin/env bash
# The browser tests: the built PWA in Debian's Chromium against a real server (started by
# global-setup.ts on a free port with a fresh data folder). Arguments go to `playwright test`.
# Without Chromium they are skipped with a reason, except in CI (CI=true), where that fails.
set -euo pipefail
cd "$(dirname "$0")"

chromium="${E2E_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "e2e: $chromium is missing; CI needs it (apt-get install chromium)" >&2
    exit 1
  fi
  echo "e2e: SKIPPED: $chromium is missing (apt-get install chromium to run the browser tests)"
  exit 0
fi
if [ ! -f ../../frontend/dist/index.html ]; then
  echo "e2e: build the app first (make frontend)" >&2
  exit 1
fi

# Playwright never downloads a browser here: it drives Debian's Chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec ./node_modules/.bin/playwright test "$@"
