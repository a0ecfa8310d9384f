#!/usr/bin/env bash
# Run every test suite given, then say what was tested, passed, failed and
# skipped, with each distinct reason for a skip and how many tests it
# skipped: a test that cannot run here is never silent, and "all passed"
# means nothing more than it says.
#
#   scripts/run-tests.sh build/tests/cli/test_cli build/tests/compare/test_side ...
#
# Each suite writes a TAP report beside its normal output; a suite that dies
# without one counts as failed.
set -u
tap_dir=$(mktemp -d "${TMPDIR:-/tmp}/virtuoso-tests.XXXXXX")
trap 'rm -rf "$tap_dir"' EXIT
jobs=${TEST_JOBS:-2}
# A calibration stored on this host must not change what the tests see:
# they get an empty store unless a test names its own.
export VIRTUOSO_CALIBRATION_DIR="$tap_dir/calibration"
bad_suites=()

for t in "$@"; do
	echo "== $t"
	tap="$tap_dir/$(echo "$t" | tr / _).tap"
	if ! "$t" --jobs="$jobs" --tap="$tap"; then
		bad_suites+=("$t")
	fi
	[ -s "$tap" ] || { echo "not ok - $t: no report (the suite died)" > "$tap"; }
done

cat "$tap_dir"/*.tap | awk -v bad="${#bad_suites[@]}" '
	/^ok / && / # SKIP / {
		skipped++
		reason = $0; sub(/.* # SKIP /, "", reason)
		reasons[reason]++
		next
	}
	/^ok / { passed++; next }
	/^not ok / { failed++; failures[failed] = $0; next }
	END {
		tested = passed + failed + skipped
		printf "make test: %d tested, %d passed, %d failed, %d skipped\n", tested, passed, failed, skipped
		for (r in reasons)
			printf "make test: skipped %d: %s\n", reasons[r], r
		for (i = 1; i <= failed; i++)
			printf "make test: FAILED %s\n", failures[i]
		if (failed || bad) {
			print "make test: FAILED"
			exit 1
		}
	}'
