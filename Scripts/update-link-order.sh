#!/usr/bin/env bash
# Regenerates Linker/userplane-archiver.order, the symbol ordering file of the release link (Package.swift,
# `--symbol-ordering-file`): every function of the executable that runs during `download --resources video` and
# `archive` of a few recordings from `userplane-sim`, found with valgrind's callgrind (exact, not sampled), one
# mangled name a line, sorted. lld places these functions first in .text, so the code a run touches shares a few
# hundred KiB of pages instead of being scattered over 28 MiB of text (the kernel maps file pages 64 KiB around
# each fault): about 6.7 MiB less peak RSS (README, Memory).
#
# The order only changes layout, never behaviour. Names that no longer exist are ignored by the linker, so a stale
# file just loses some of its effect: re-run this script after large changes to the download or archive path, or
# after a toolchain upgrade, and commit the result. SwiftPM does not track the file: delete
# .build/release/userplane-archiver (and archiver-bench) to relink with a new one at once.
#
# Needs valgrind (apt-get install valgrind) and a release build (built first unless --no-build).
# Usage: Scripts/update-link-order.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
while [ $# -gt 0 ]; do
    case "$1" in
    --no-build) build=0 ;;
    *)
        echo "usage: $0 [--no-build]" >&2
        exit 64
        ;;
    esac
    shift
done
command -v valgrind >/dev/null || { echo "update-link-order: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
if [ "$build" -eq 1 ]; then
    swift build -c release --product userplane-archiver >&2
    swift build -c release --product userplane-sim >&2
fi
bin=.build/release

work=$(mktemp -d "${TMPDIR:-/tmp}/link-order.XXXXXX")
sim_pid=
cleanup() {
    if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# valgrind cannot read the DWARF of our release binary; the symbol table is enough.
objcopy --strip-debug "$bin/userplane-archiver" "$work/userplane-archiver"
"$bin/userplane-sim" --port 0 --info-file "$work/sim.info" --no-hostile-recording --recordings 4 \
    --rate-per-minute 6000 --daily-limit 1000000 --video-bytes 4194304 >"$work/sim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 1 200); do
    [ -s "$work/sim.info" ] && break
    sleep 0.05
done
[ -s "$work/sim.info" ] || { echo "update-link-order: userplane-sim did not start" >&2; cat "$work/sim.out" >&2; exit 1; }
api=$(jq -r .apiBaseURL "$work/sim.info")
key=$(jq -r .apiKey "$work/sim.info")
ws=$(jq -r .workspaceId "$work/sim.info")

# profile NAME ARGS...: runs the archiver under callgrind into $work/NAME.callgrind.
profile() {
    local name=$1
    shift
    USERPLANE_API_KEY="$key" valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/$name.callgrind" \
        "$work/userplane-archiver" "$@" --workspace "$ws" --base-url "$api" --api-rate 6000 \
        --api-daily-budget 1000000 --quiet --concurrency 4 >"$work/$name.out" 2>&1 ||
        { echo "update-link-order: $name under valgrind failed" >&2; tail -20 "$work/$name.out" >&2; exit 1; }
}
profile download download --out "$work/download" --resources video
profile archive archive --archive "$work/archive"

nm --defined-only "$work/userplane-archiver" | awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u >"$work/defined"
# callgrind names a function once as "fn=(id) name" (or cfn=) and by "(id)" afterwards.
sed -n -E 's/^c?fn=\([0-9]+\) (.+)$/\1/p' "$work"/*.callgrind | sort -u >"$work/executed"
mkdir -p Linker
comm -12 "$work/defined" "$work/executed" >Linker/userplane-archiver.order
echo "update-link-order: $(wc -l <Linker/userplane-archiver.order) functions in Linker/userplane-archiver.order" >&2
