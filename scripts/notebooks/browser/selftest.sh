#!/usr/bin/env bash
# Checks that the browser test catches a failing cell: with LEVSTUDY_PRESET=quick the fixture's data cell
# panics (it wants the kernel to see tiny), so scripts/notebooks/browser.sh must fail in its Run All step
# and show the panic. (make browser-test)
set -uo pipefail
cd "$(dirname "$0")/../../.."
log=$(LEVSTUDY_PRESET=quick BROWSER_OUT=out/browser-selftest \
  bash scripts/notebooks/browser.sh scripts/notebooks/browser/testdata/fixture.ipynb 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'FAILED in step "run all' <<<"$log" && grep -q 'did not reach the kernel: preset quick' <<<"$log"; then
  echo "browser selftest: a panicking cell fails the browser test in its Run All step, as it should"
  exit 0
fi
tail -20 <<<"$log" >&2
echo "browser selftest: a panicking cell did not fail the browser test in its Run All step (exit $rc)" >&2
exit 1
