#!/usr/bin/env bash
# A real headless browser for end-to-end tests: Debian's `chromium` (apt, when missing) driven by
# `playwright-core` (pinned; installed into the cache outside the clone — no browser download: Playwright
# uses Debian's binary). Checks that a headless launch renders a page and prints, also into FILE:
#   CHROMIUM=/usr/bin/chromium
#   PLAYWRIGHT_CORE=<directory to require('playwright-core') from>
#
#   scripts/browser.sh [--env-out FILE]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/cache.sh
source "$root/scripts/lib/cache.sh"

# Pinned: ../shared/docs/ecosystem.md measured this release with Debian's Chromium 156.
PLAYWRIGHT_VERSION=1.65.1
CHROMIUM=/usr/bin/chromium
pw_dir="$SG_CACHE_DIR/playwright-core-$PLAYWRIGHT_VERSION"

fail() {
  printf 'browser.sh: error: %s\n' "$*" >&2
  exit 1
}

env_out=
if [[ ${1:-} == --env-out ]]; then
  env_out=${2:?--env-out needs a FILE}
elif [[ $# -gt 0 ]]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi

[[ -x $CHROMIUM ]] || SG_LOG_PREFIX=browser.sh sg_apt_install chromium

install_playwright() {
  [[ -f $pw_dir/node_modules/playwright-core/package.json ]] && return 0
  printf 'browser.sh: installing playwright-core@%s\n' "$PLAYWRIGHT_VERSION" >&2
  sg_npm_install_into "$pw_dir" "playwright-core@$PLAYWRIGHT_VERSION" || fail "npm could not install playwright-core@$PLAYWRIGHT_VERSION"
}
[[ -f $pw_dir/node_modules/playwright-core/package.json ]] || sg_locked "$SG_CACHE_DIR/playwright.lock" install_playwright

# The check: launch headless (no sandbox: it cannot start as root; Playwright's default), render a page
# that runs script, close.
PW_DIR=$pw_dir CHROMIUM=$CHROMIUM node --input-type=module -e '
  import { createRequire } from "node:module";
  const { chromium } = createRequire(process.env.PW_DIR + "/")("playwright-core");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--disable-gpu", "--no-first-run"] });
  try {
    const page = await browser.newPage();
    await page.setContent("<p id=p></p><script>document.getElementById(\"p\").textContent = typeof EventSource</script>");
    const text = await page.textContent("#p");
    if (text !== "function") throw new Error(`the page rendered ${JSON.stringify(text)}, expected "function"`);
  } finally {
    await browser.close();
  }
' || fail "headless Chromium did not launch or render (see above)"

out="CHROMIUM=$CHROMIUM
PLAYWRIGHT_CORE=$pw_dir"
[[ -n $env_out ]] && { mkdir -p "$(dirname "$env_out")"; printf '%s\n' "$out" >"$env_out"; }
printf '%s\n' "$out"
