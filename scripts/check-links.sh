#!/usr/bin/env bash
# check-links.sh - every relative link in the Markdown files must resolve to a
# file or directory inside the clone, so that a reader of a fresh clone can
# follow it.
#
#   scripts/check-links.sh [ROOT]
#
# ROOT is the tree to check; by default the clone this script belongs to.
# Files checked: every *.md under ROOT (when ROOT is the top of a git work
# tree, the tracked ones and the untracked ones git does not ignore; else
# every *.md outside .git, build, bin and out). What counts as a link:
#
#   - inline links and images: [text](target), ![alt](target)
#   - reference definitions: [label]: target
#   - inline code that is an explicitly relative path, `./x` or `../x`: a
#     file the reader is told to open, which must exist too
#
# Skipped: targets with a scheme (http:, https:, mailto:, ...), anchor-only
# targets (#section), and everything inside fenced code blocks. An anchor or
# query after a path is dropped and the path checked. A target resolves from
# the directory of its file (from ROOT when it starts with /); it must exist
# and lie inside ROOT. A link out of the clone fails even when the file it
# names exists on this machine (../shared/... does, on the machine the
# project was started on).
#
# Output: one line per broken link, FILE:LINE: TARGET: why, then a count.
# Exit status: 0 every link resolves; 1 some do not; 2 bad usage.
set -u

if [ $# -gt 1 ]; then
	echo "usage: $0 [ROOT]" >&2
	exit 2
fi
if [ $# -eq 1 ]; then
	root=$(cd "$1" 2>/dev/null && pwd -P) || { echo "$0: $1: not a directory" >&2; exit 2; }
else
	root=$(cd "$(dirname "$0")/.." && pwd -P)
fi

# The Markdown files, NUL-separated, relative to root.
list_files() {
	local top
	top=$(git -C "$root" rev-parse --show-toplevel 2>/dev/null) || top=
	if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$root" ]; then
		git -C "$root" ls-files -z --cached --others --exclude-standard -- '*.md'
	else
		(cd "$root" && find . \( -name .git -o -path ./build -o -path ./bin -o -path ./out \) \
			-prune -o -type f -name '*.md' -print0 | sed -z 's|^\./||')
	fi
}

# LINE<TAB>TARGET for every link of one Markdown file (on stdin).
extract_links() {
	awk '
	function emit(t) {
		gsub(/^[ \t]+|[ \t]+$/, "", t)
		if (t != "")
			printf "%d\t%s\n", NR, t
	}
	# A link target as written inside (...): <target> or the first word.
	function target(s) {
		sub(/^[ \t]+/, "", s)
		if (substr(s, 1, 1) == "<") {
			s = substr(s, 2)
			sub(/>.*/, "", s)
			return s
		}
		sub(/[ \t].*/, "", s)
		return s
	}
	/^[ \t]*(```|~~~)/ { fenced = !fenced; next }
	fenced { next }
	{
		line = $0
		rest = ""
		# Inline code: checked as a path when explicitly relative, then removed.
		while (match(line, /`+/)) {
			ticks = substr(line, RSTART, RLENGTH)
			rest = rest substr(line, 1, RSTART - 1)
			line = substr(line, RSTART + RLENGTH)
			end = index(line, ticks)
			if (!end) {		# no closing run: the ticks are text
				rest = rest ticks
				continue
			}
			code = substr(line, 1, end - 1)
			line = substr(line, end + RLENGTH)
			gsub(/^[ \t]+|[ \t]+$/, "", code)
			if (code ~ /^\.\.?\/[^ \t]*$/)
				emit(code)
		}
		rest = rest line
		# Reference definitions.
		if (match(rest, /^[ ]?[ ]?[ ]?\[[^]]+\]:[ \t]*[^ \t]+/)) {
			def = substr(rest, RSTART, RLENGTH)
			sub(/^[^]]*\]:/, "", def)
			emit(target(def))
		}
		# Inline links and images.
		while (match(rest, /\]\([^)]*\)/)) {
			emit(target(substr(rest, RSTART + 2, RLENGTH - 3)))
			rest = substr(rest, RSTART + RLENGTH)
		}
	}'
}

broken=0
checked=0
while IFS= read -r -d '' file; do
	[ -f "$root/$file" ] || continue	# tracked but deleted in the work tree
	dir=$(dirname "$root/$file")
	while IFS=$'\t' read -r lineno link; do
		path=${link%%#*}
		path=${path%%\?*}
		# anchor-only, or a scheme (http:, https:, mailto:, ...)
		if [ -z "$path" ] || [[ "$path" =~ ^[A-Za-z][A-Za-z0-9+.-]*: ]]; then
			continue
		fi
		path=${path//%20/ }
		checked=$((checked + 1))
		if [ "${path:0:1}" = / ]; then
			abs=$(realpath -m -- "$root$path")
		else
			abs=$(realpath -m -- "$dir/$path")
		fi
		if [ "$abs" != "$root" ] && [ "${abs#"$root"/}" = "$abs" ]; then
			echo "$file:$lineno: $link: outside the clone (resolves to $abs)"
			broken=$((broken + 1))
		elif [ ! -e "$abs" ]; then
			echo "$file:$lineno: $link: no such file or directory"
			broken=$((broken + 1))
		fi
	done < <(extract_links < "$root/$file")
done < <(list_files)

if [ "$broken" -ne 0 ]; then
	echo "check-links: $broken of $checked relative links do not resolve inside the clone"
	exit 1
fi
echo "check-links: all $checked relative links resolve inside the clone"
exit 0
