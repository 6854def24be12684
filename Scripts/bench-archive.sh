#!/usr/bin/env bash
# End-to-end benchmarks of `userplane-archiver archive` against `userplane-sim` on loopback (release builds):
#   1. Quota efficiency: simulator limit L/min (default 1200) and `--api-rate L`, enough small recordings to
#      be API-bound for about two minutes. Prints achieved API calls/min ÷ L (target ≥ 0.95), 429s (target 0)
#      and API calls per recording. The minimum the API allows per recording is 1 GET recording + 1 GET per
#      resource (5) = 6 for a final recording (pending ones: 1, they are deferred), plus 1/20 of a listing
#      page (per_page=20 is the maximum) and 2 preflight calls per run (GET /me, GET /workspace).
#   2. Bandwidth: a few large videos (--video-bytes), archived at --concurrency 4; then the same blobs
#      fetched by `curl -o` at the same concurrency from the same simulator, alone and followed by
#      sha256sum + sha512sum (the hashing the archiver does while streaming). Prints bytes/s of each.
#      (One of the 4 generated recordings may be pending; its video is then not served.)
#   3. Peak RSS (`/usr/bin/time -v`) of a 200-recording run with default-sized content (target ≤ 96 MiB).
#   4. Scheduled reruns: a workspace of N recordings (--listing-recordings, default 400) archived once
#      (a full listing), then M new recordings (--listing-new, default 5) created and the run repeated
#      (an incremental listing), then repeated once more with nothing new, then with --full-listing.
#      Prints list calls and API calls of each rerun, counted by the simulator (every recording final).
#
# Usage: Scripts/bench-archive.sh [--quick] [--rate L] [--recordings N] [--video-bytes B] [--debug] [--no-build]
#                                 [--listing-only] [--listing-recordings N] [--listing-new M]
#   --quick: about 30 s for (1) (fewer recordings), 64 MiB videos for (2).
#   --listing-only: run only (4).
set -euo pipefail
cd "$(dirname "$0")/.."

rate=1200
configuration=release
quick=0
build=1
recordings=
video_bytes=
listing_only=0
listing_recordings=400
listing_new=5
usage="usage: $0 [--quick] [--rate L] [--recordings N] [--video-bytes B] [--debug] [--no-build] [--listing-only]"
usage="$usage [--listing-recordings N] [--listing-new M]"
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --rate) rate=$2; shift ;;
    --recordings) recordings=$2; shift ;;
    --video-bytes) video_bytes=$2; shift ;;
    --debug) configuration=debug ;;
    --no-build) build=0 ;;
    --listing-only) listing_only=1 ;;
    --listing-recordings) listing_recordings=$2; shift ;;
    --listing-new) listing_new=$2; shift ;;
    *) echo "$usage" >&2; exit 64 ;;
    esac
    shift
done
# About 5.6 API calls per recording (some are pending, see above): 2 minutes at L/min needs ~ 2L/5.6 recordings.
if [ -z "$recordings" ]; then
    if [ "$quick" -eq 1 ]; then recordings=$((rate / 11)); else recordings=$((rate * 2 * 10 / 56)); fi
fi
if [ -z "$video_bytes" ]; then
    if [ "$quick" -eq 1 ]; then video_bytes=$((64 << 20)); else video_bytes=$((512 << 20)); fi
fi

if [ ! -x /usr/bin/time ]; then
    echo "bench-archive: installing GNU time for peak RSS" >&2
    apt-get install -y time >/dev/null
fi
for tool in jq curl; do
    command -v "$tool" >/dev/null || { echo "bench-archive: $tool is required (apt-get install $tool)" >&2; exit 1; }
done

if [ "$build" -eq 1 ]; then
    echo "bench-archive: building userplane-archiver and userplane-sim ($configuration)" >&2
    swift build -c "$configuration" --product userplane-archiver >&2
    swift build -c "$configuration" --product userplane-sim >&2
fi
bin=".build/$configuration"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-archive.XXXXXX")
sim_pid=
stop_sim() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
        sim_pid=
    fi
}
cleanup() {
    stop_sim
    rm -rf "$work"
}
trap cleanup EXIT

# start_sim NAME ARGS...: starts userplane-sim, waits for its info file, sets api/key/ws/admin.
start_sim() {
    local name=$1
    shift
    rm -f "$work/$name.info"
    "$bin/userplane-sim" --port 0 --info-file "$work/$name.info" --no-hostile-recording "$@" \
        >"$work/$name.sim.out" 2>"$work/$name.sim.err" &
    sim_pid=$!
    for _ in $(seq 1 200); do
        [ -s "$work/$name.info" ] && break
        sleep 0.05
    done
    [ -s "$work/$name.info" ] || { echo "bench-archive: userplane-sim did not start" >&2; cat "$work/$name.sim.err" >&2; exit 1; }
    api=$(jq -r .apiBaseURL "$work/$name.info")
    key=$(jq -r .apiKey "$work/$name.info")
    ws=$(jq -r .workspaceId "$work/$name.info")
    admin=$(jq -r .adminBaseURL "$work/$name.info")
}

now() { date +%s.%N; }

# archive NAME RATE EXTRA...: runs the archiver under /usr/bin/time -v into $work/NAME, sets seconds and rss_kib.
archive() {
    local name=$1 api_rate=$2
    shift 2
    local started finished status=0
    started=$(now)
    USERPLANE_API_KEY="$key" /usr/bin/time -v -o "$work/$name.time" \
        "$bin/userplane-archiver" archive --workspace "$ws" --archive "$work/$name" --base-url "$api" \
        --api-rate "$api_rate" --api-daily-budget 1000000 --quiet "$@" \
        >"$work/$name.out" 2>"$work/$name.err" || status=$?
    finished=$(now)
    seconds=$(echo "$finished - $started" | bc -l)
    rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
    if [ "$status" -ne 0 ]; then
        echo "bench-archive: archive ($name) exited $status" >&2
        tail -20 "$work/$name.err" >&2
        exit 1
    fi
}

# list_calls: list calls the simulator has counted since its counters were last reset.
list_calls() {
    curl -sf "$admin/counters" | jq '.callsByEndpoint["GET /public/workspace/{ws}/recordings"] // 0'
}

# --- 4. Scheduled reruns: what listing costs -------------------------------------------------------------
# rerun EXTRA...: resets the counters and archives the workspace into $work/listing again; sets rerun_list
# (list calls), rerun_calls (API calls), rerun_archived and rerun_mode (from the run's report).
rerun() {
    curl -sf -X POST "$admin/reset-counters" >/dev/null
    USERPLANE_API_KEY="$key" "$bin/userplane-archiver" archive --workspace "$ws" --archive "$work/listing" \
        --base-url "$api" --api-rate 60000 --api-daily-budget 1000000 --concurrency 4 --json "$@" \
        >"$work/listing.out" 2>"$work/listing.err" || {
        echo "bench-archive: archive (listing) failed" >&2
        tail -20 "$work/listing.err" >&2
        exit 1
    }
    rerun_list=$(list_calls)
    rerun_calls=$(curl -sf "$admin/counters" | jq .apiCalls)
    local report
    report=$(jq -r 'select(.event == "run-finished") | .path' "$work/listing.out")
    rerun_archived=$(jq .counts.archived "$report")
    rerun_mode=$(jq -r .listing.mode "$report")
}
echo "bench-archive: (4) scheduled reruns: $listing_recordings recordings, $listing_new new" >&2
# Every recording final, so the figures show listing and archiving only (a deferred recording costs 1 call per run).
echo '{"content": {"unfinishedFraction": 0}}' >"$work/listing-sim.json"
start_sim listing --config "$work/listing-sim.json" --recordings "$listing_recordings" --rate-per-minute 60000 \
    --daily-limit 1000000 --video-bytes 256
rerun
first_list=$rerun_list first_calls=$rerun_calls first_archived=$rerun_archived first_mode=$rerun_mode
curl -sf -X POST -d "{\"count\": $listing_new}" "$admin/recordings" >/dev/null
rerun
new_list=$rerun_list new_calls=$rerun_calls new_archived=$rerun_archived new_mode=$rerun_mode
rerun
none_list=$rerun_list none_calls=$rerun_calls none_mode=$rerun_mode
rerun --full-listing
full_list=$rerun_list full_calls=$rerun_calls full_mode=$rerun_mode
stop_sim

if [ "$listing_only" -eq 0 ]; then
# --- 1. Quota efficiency ---------------------------------------------------------------------------------
echo "bench-archive: (1) quota efficiency: $recordings recordings, L=$rate/min" >&2
start_sim quota --recordings "$recordings" --rate-per-minute "$rate" --daily-limit 1000000 --video-bytes 16384
archive quota "$rate" --concurrency 4
quota_seconds=$seconds
counters=$(curl -sf "$admin/counters")
calls=$(echo "$counters" | jq .apiCalls)
limited=$(echo "$counters" | jq .rateLimited)
window_max=$(echo "$counters" | jq .maxAPICallsInWindow)
reports=("$work/quota/.userplane-archiver/runs/"*.json)
report=${reports[0]}
archived=$(jq .counts.archived "$report")
deferred=$(jq .counts.deferred "$report")
per_minute=$(echo "$calls * 60 / $quota_seconds" | bc -l)
efficiency=$(echo "$per_minute / $rate" | bc -l)
per_recording=$(echo "($calls - 2) / $recordings" | bc -l)
per_archived=$(echo "($calls - 2 - $deferred - ($recordings + 19) / 20) / $archived" | bc -l)
stop_sim

# --- 2. Bandwidth --------------------------------------------------------------------------------------------
videos=4
echo "bench-archive: (2) bandwidth: $videos videos of $video_bytes bytes" >&2
start_sim bandwidth --recordings "$videos" --rate-per-minute 6000 --daily-limit 1000000 --video-bytes "$video_bytes"
archive bandwidth 6000 --concurrency 4
bandwidth_seconds=$seconds
blob_bytes=$(curl -sf "$admin/counters" | jq .blobBytesSent)
archive_rate=$(echo "$blob_bytes / $bandwidth_seconds" | bc -l)
# The same blobs with curl: resolve each available resource, then fetch them 4 at a time into files.
mkdir -p "$work/curl"
: >"$work/curl/urls"
for id in $(curl -sf "$admin/recordings" | jq -r --arg ws "$ws" '.[] | select((.isDeleted | not) and .workspaceId == $ws) | .recordingId'); do
    for resource in video thumbnail console-log network-log action; do
        url=$(curl -sf -H "Authorization: Bearer $key" "$api/public/workspace/$ws/recordings/$id/$resource" |
            jq -r '.data.resource.url // empty')
        [ -n "$url" ] && echo "$url" >>"$work/curl/urls"
    done
done
curl -sf -X POST "$admin/reset-counters" >/dev/null
started=$(now)
n=0
while read -r url; do
    n=$((n + 1))
    echo "url = \"$url\""
    echo "output = \"$work/curl/blob-$n\""
done <"$work/curl/urls" >"$work/curl/config"
curl -sf --no-progress-meter --parallel --parallel-max 4 --config "$work/curl/config"
curl_seconds=$(echo "$(now) - $started" | bc -l)
curl_bytes=$(curl -sf "$admin/counters" | jq .blobBytesSent)
curl_rate=$(echo "$curl_bytes / $curl_seconds" | bc -l)
# The archiver also computes SHA-256 and SHA-512 of every byte: the same work after curl, 2 files at a time.
started=$(now)
# shellcheck disable=SC2016 # $0 is expanded by the inner sh, once per file.
find "$work/curl" -name 'blob-*' -print0 | xargs -0 -n 1 -P 2 sh -c 'sha256sum "$0" >/dev/null; sha512sum "$0" >/dev/null'
hash_seconds=$(echo "$(now) - $started" | bc -l)
curl_hash_rate=$(echo "$curl_bytes / ($curl_seconds + $hash_seconds)" | bc -l)
stop_sim
rm -rf "$work/bandwidth" "$work/curl"

# --- 3. Peak RSS over 200 recordings -------------------------------------------------------------------------
echo "bench-archive: (3) peak RSS over 200 recordings" >&2
start_sim rss --recordings 200 --rate-per-minute 6000 --daily-limit 1000000
archive rss 6000 --concurrency 4
rss_seconds=$seconds
reports=("$work/rss/.userplane-archiver/runs/"*.json)
rss_archived=$(jq .counts.archived "${reports[0]}")
stop_sim

fi

mib() { echo "scale=1; $1 / 1048576" | bc -l; }
echo
echo "== bench-archive summary ($configuration, $(nproc) cores) =="
if [ "$listing_only" -eq 0 ]; then
printf '(1) quota: %d recordings (%d archived, %d deferred) in %.1f s: %d API calls = %.1f/min; L=%d/min -> %.3f of L (target >= 0.95)\n' \
    "$recordings" "$archived" "$deferred" "$quota_seconds" "$calls" "$per_minute" "$rate" "$efficiency"
printf '    429s: %d (target 0); max calls in any 60 s window: %d; calls/recording: %.2f overall, %.2f per archived recording\n' \
    "$limited" "$window_max" "$per_recording" "$per_archived"
printf '(2) bandwidth: archive %.1f MiB/s (%s MiB in %.1f s, incl. packing) vs curl -o %.1f MiB/s (%s MiB in %.1f s), ratio %.2f\n' \
    "$(mib "$archive_rate")" "$(mib "$blob_bytes")" "$bandwidth_seconds" "$(mib "$curl_rate")" "$(mib "$curl_bytes")" \
    "$curl_seconds" "$(echo "$archive_rate / $curl_rate" | bc -l)"
printf '    curl -o then sha256sum + sha512sum (the hashing the archiver does while downloading): %.1f MiB/s, ratio %.2f\n' \
    "$(mib "$curl_hash_rate")" "$(echo "$archive_rate / $curl_hash_rate" | bc -l)"
printf '    (the archive figure also includes packing: every staged byte re-read, hashed twice again, written to the tar, fsync)\n'
printf '(3) peak RSS: %.1f MiB over %d recordings archived in %.1f s (target <= 96 MiB)\n' \
    "$(echo "$rss_kib / 1024" | bc -l)" "$rss_archived" "$rss_seconds"
fi
printf '(4) listing, %d recordings: first run (%s) %d list calls, %d API calls, %d archived\n' \
    "$listing_recordings" "$first_mode" "$first_list" "$first_calls" "$first_archived"
printf '    rerun with %d new (%s): %d list calls, %d API calls, %d archived\n' \
    "$listing_new" "$new_mode" "$new_list" "$new_calls" "$new_archived"
printf '    rerun with nothing new (%s): %d list calls, %d API calls; --full-listing (%s): %d list calls, %d API calls\n' \
    "$none_mode" "$none_list" "$none_calls" "$full_mode" "$full_list" "$full_calls"
