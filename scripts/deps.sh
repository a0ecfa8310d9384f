#!/bin/sh
# Install the Debian packages this project needs that are missing, and
# nothing else. Safe to run again: with everything present it changes nothing.
set -eu

# build: make, gcc, pkg-config; libraries: cJSON, Criterion (tests), libbpf,
# libpfm4, NLopt (the calibration fit's search), zstd (reference bundles);
# BPF programs: clang, the kernel's UAPI headers, bpftool (object and
# skeleton); reports: gnuplot (the plots, SVG and PDF), Chromium (the tests
# that render report.html and validation.html in a real browser), pdflatex
# with booktabs (the test that compiles validation.tex); benchmark
# references: bpftrace and valgrind (make bench).
PKGS="make gcc libc6-dev linux-libc-dev pkg-config git libcjson-dev libcriterion-dev libbpf-dev libpfm4-dev libnlopt-dev libzstd-dev clang bpftool gnuplot-nox chromium bpftrace valgrind texlive-latex-base texlive-latex-recommended slurmctld slurmd slurm-client munge python3 sqlite3"

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: not a Debian system (no dpkg-query); install by hand: $PKGS" >&2
	exit 3
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps.sh: all packages present"
	exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps.sh: need root or sudo to install:$missing" >&2; exit 3; }
	SUDO=sudo
fi
echo "deps.sh: installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
