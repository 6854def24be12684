#!/usr/bin/env bash
# End-to-end benchmarks of `userplane-archiver archive` against `userplane-sim` on loopback (release builds):
#   1. Quota efficiency: simulator limit L/min (default 1200) and `--api-rate L`, enough small recordings to
#      be API-bound for about two minutes. Prints achieved API calls/min ÷ L (target ≥ 0.95), 429s (target 0)
#      and API calls per recording. The minimum the API allows per recording is 1 GET recording + 1 GET per
#      resource (5) = 6 for a final recording (pending ones: 1, they are deferred), plus 1/20 of a listing
#      page (per_page=20 is the maximum) and 2 preflight calls per run (GET /me, GET /workspace).
#   2. Bandwidth: 4 recordings with large videos (--video-bytes) and all five resources, served by the simulator
#      on loopback, fetched in --rounds alternated rounds (the order rotates) by:
#        archive   `userplane-archiver archive --concurrency 4` (download, hash, pack, fsync, verify nothing more),
#        download  `userplane-archiver download --concurrency 4` (the same bytes as plain files; packing's cost is
#                  archive/download - 1, target <= 25 %),
#        python    Scripts/bench-baseline.py archive: http.client + hashlib, 4 threads, 1 MiB reads, SHA-256 +
#                  SHA-512 while writing, no fsync, one tarfile tar + SHA-256 sidecar per recording,
#        curl+tar  `curl --parallel --parallel-max 4`, then sha256sum + sha512sum of every file (2 at a time),
#                  `tar -cf` per recording and sha256sum of each tar.
#      The URLs of python and curl are resolved through the API before their timed part. Prints medians, peak
#      RSS and ratios. (One of the 4 generated recordings may be pending; its video is then not served.)
#   3. Peak RSS (`/usr/bin/time -v`) of a 200-recording run with default-sized content (target ≤ 96 MiB).
#   4. Scheduled reruns: a workspace of N recordings (--listing-recordings, default 400) archived once
#      (a full listing), then M new recordings (--listing-new, default 5) created and the run repeated
#      (an incremental listing), then repeated once more with nothing new, then with --full-listing.
#      Prints list calls and API calls of each rerun, counted by the simulator (every recording final).
#   5. (--shared-only) Quota efficiency with three processes: three `archive --database` processes sharing one
#      throw-away PostgreSQL 15 (/usr/lib/postgresql/15/bin, run as the postgres user) and one archive root,
#      `--api-rate L` each, against the simulator at L/min. Prints achieved calls/min ÷ L and 429s (target 0).
#
# Usage: Scripts/bench-archive.sh [--quick] [--rate L] [--recordings N] [--video-bytes B] [--rounds R]
#                                 [--bandwidth-only] [--debug] [--no-build]
#                                 [--listing-only] [--listing-recordings N] [--listing-new M]
#   --quick: about 30 s for (1) (fewer recordings), 64 MiB videos for (2). --bandwidth-only: just (2).
#   --listing-only: just (4). --shared-only: just (5).
set -euo pipefail
cd "$(dirname "$0")/.."

rate=1200
configuration=release
quick=0
build=1
rounds=3
bandwidth_only=0
recordings=
video_bytes=
listing_only=0
listing_recordings=400
listing_new=5
shared_only=0
usage="usage: $0 [--quick] [--rate L] [--recordings N] [--video-bytes B] [--rounds R] [--bandwidth-only] [--debug]"
usage="$usage [--no-build] [--listing-only] [--listing-recordings N] [--listing-new M] [--shared-only]"
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --rate) rate=$2; shift ;;
    --recordings) recordings=$2; shift ;;
    --video-bytes) video_bytes=$2; shift ;;
    --debug) configuration=debug ;;
    --no-build) build=0 ;;
    --rounds) rounds=$2; shift ;;
    --bandwidth-only) bandwidth_only=1 ;;
    --listing-only) listing_only=1 ;;
    --listing-recordings) listing_recordings=$2; shift ;;
    --listing-new) listing_new=$2; shift ;;
    --shared-only) shared_only=1 ;;
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

if [ "$shared_only" -eq 1 ]; then
# --- 5. Quota efficiency with three processes sharing one PostgreSQL database -----------------------------
pg_bin=/usr/lib/postgresql/15/bin
# Not under $work (0700, root's): the postgres user must reach it.
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-archive-pg.XXXXXX")
# shellcheck disable=SC2317  # called from the EXIT trap
stop_pg() {
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap 'stop_pg; cleanup' EXIT
chown postgres:postgres "$pg_dir"
chmod 0700 "$pg_dir"
pg_port=$((20000 + RANDOM % 20000))
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >"$work/initdb.out" 2>&1
# Descriptors above 2 closed: the server must not keep this script's pipes open.
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off" start >/dev/null 3>&- 4>&- 5>&-
runuser -u postgres -- psql -X -q -h "$pg_dir" -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE archiver LOGIN" -c "CREATE DATABASE userplane" >/dev/null
runuser -u postgres -- psql -X -q -h "$pg_dir" -p "$pg_port" -U postgres -d userplane -v ON_ERROR_STOP=1 \
    -c "CREATE SCHEMA userplane AUTHORIZATION archiver" \
    -c "ALTER ROLE archiver IN DATABASE userplane SET search_path = userplane" >/dev/null
database="postgres://archiver@127.0.0.1:$pg_port/userplane?sslmode=disable"
echo "bench-archive: (5) three processes, one database: $recordings recordings, L=$rate/min" >&2
start_sim shared --recordings "$recordings" --rate-per-minute "$rate" --daily-limit 1000000 --video-bytes 16384
started=$(now)
pids=()
for n in 1 2 3; do
    USERPLANE_API_KEY="$key" USERPLANE_DATABASE_URL="$database" \
        "$bin/userplane-archiver" archive --workspace "$ws" --archive "$work/shared" --base-url "$api" \
        --api-rate "$rate" --api-daily-budget 1000000 --concurrency 4 --quiet \
        >"$work/shared.$n.out" 2>"$work/shared.$n.err" &
    pids+=("$!")
done
for pid in "${pids[@]}"; do
    wait "$pid" || { echo "bench-archive: a shared archive process failed" >&2; tail -20 "$work"/shared.*.err >&2; exit 1; }
done
shared_seconds=$(echo "$(now) - $started" | bc -l)
counters=$(curl -sf "$admin/counters")
calls=$(echo "$counters" | jq .apiCalls)
limited=$(echo "$counters" | jq .rateLimited)
window_max=$(echo "$counters" | jq .maxAPICallsInWindow)
tars=$(find "$work/shared" -name '*.tar' | wc -l)
per_minute=$(echo "$calls * 60 / $shared_seconds" | bc -l)
echo "== bench-archive summary ($configuration, $(nproc) cores) =="
printf '(5) shared: 3 processes, %d recordings (%d tars) in %.1f s: %d API calls = %.1f/min; L=%d/min -> %.3f of L\n' \
    "$recordings" "$tars" "$shared_seconds" "$calls" "$per_minute" "$rate" "$(echo "$per_minute / $rate" | bc -l)"
printf '    429s: %d (target 0); max calls in any 60 s window: %d\n' "$limited" "$window_max"
exit 0
fi

if [ "$bandwidth_only" -eq 0 ]; then
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
fi

if [ "$bandwidth_only" -eq 0 ] && [ "$listing_only" -eq 0 ]; then
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
fi

if [ "$listing_only" -eq 0 ]; then
# --- 2. Bandwidth --------------------------------------------------------------------------------------------
videos=4
echo "bench-archive: (2) bandwidth: $videos recordings, videos of $video_bytes bytes, $rounds rounds" >&2
start_sim bandwidth --recordings "$videos" --rate-per-minute 6000 --daily-limit 1000000 --video-bytes "$video_bytes"
# resolve_urls: writes recording<TAB>name<TAB>url lines for every available resource to $work/urls.
resolve_urls() {
    : >"$work/urls"
    local id resource url
    for id in $(curl -sf "$admin/recordings" | jq -r --arg ws "$ws" '.[] | select((.isDeleted | not) and .workspaceId == $ws) | .recordingId'); do
        for resource in video thumbnail console-log network-log action; do
            url=$(curl -sf -H "Authorization: Bearer $key" "$api/public/workspace/$ws/recordings/$id/$resource" |
                jq -r '.data.resource.url // empty')
            if [ -n "$url" ]; then printf '%s\t%s\t%s\n' "$id" "$resource" "$url" >>"$work/urls"; fi
        done
    done
}
# bandwidth_run CONTENDER ROUND: one timed run; sets seconds; peak RSS in $work/bw-CONTENDER.ROUND.time.
bandwidth_run() {
    local name=$1 round=$2 started status=0
    rm -rf "$work/bw"
    mkdir -p "$work/bw"
    if [ "$name" = python ] || [ "$name" = curl-tar ]; then resolve_urls; fi
    started=$(now)
    case "$name" in
    archive)
        USERPLANE_API_KEY="$key" /usr/bin/time -v -o "$work/bw-$name.$round.time" \
            "$bin/userplane-archiver" archive --workspace "$ws" --archive "$work/bw" --base-url "$api" \
            --api-rate 6000 --api-daily-budget 1000000 --quiet --concurrency 4 \
            >"$work/bw.out" 2>"$work/bw.err" || status=$?
        ;;
    download)
        USERPLANE_API_KEY="$key" /usr/bin/time -v -o "$work/bw-$name.$round.time" \
            "$bin/userplane-archiver" download --workspace "$ws" --out "$work/bw" --base-url "$api" \
            --api-rate 6000 --api-daily-budget 1000000 --quiet --concurrency 4 \
            >"$work/bw.out" 2>"$work/bw.err" || status=$?
        ;;
    python)
        /usr/bin/time -v -o "$work/bw-$name.$round.time" python3 Scripts/bench-baseline.py archive --threads 4 \
            --out "$work/bw" --list "$work/urls" >"$work/bw.out" 2>"$work/bw.err" || status=$?
        ;;
    curl-tar)
        # shellcheck disable=SC2016 # expanded by the inner bash
        /usr/bin/time -v -o "$work/bw-$name.$round.time" bash -c '
            set -euo pipefail
            cd "$1"
            while IFS=$(printf "\t") read -r id resource url; do
                mkdir -p "staging/$id"
                printf "url = \"%s\"\noutput = \"staging/%s/%s\"\n" "$url" "$id" "$resource"
            done <"$2" >curl.config
            curl -sf --no-progress-meter --parallel --parallel-max 4 --config curl.config
            find staging -type f -print0 | xargs -0 -n 1 -P 2 sh -c "sha256sum \"\$0\" >\"\$0.sha256\"; sha512sum \"\$0\" >\"\$0.sha512\""
            for dir in staging/*/; do
                id=$(basename "$dir")
                tar -cf "$id.tar" -C staging "$id"
                sha256sum "$id.tar" >"$id.tar.sha256"
            done
        ' _ "$work/bw" "$work/urls" >"$work/bw.out" 2>"$work/bw.err" || status=$?
        ;;
    esac
    seconds=$(echo "$(now) - $started" | bc -l)
    if [ "$status" -ne 0 ]; then
        echo "bench-archive: $name exited $status" >&2
        tail -20 "$work/bw.err" >&2
        exit 1
    fi
    echo "$seconds" >"$work/bw-$name.$round.seconds"
    rm -rf "$work/bw"
}
contenders=(archive download python curl-tar)
for round in $(seq 1 "$rounds"); do
    echo "bench-archive: (2) round $round/$rounds" >&2
    for index in "${!contenders[@]}"; do
        bandwidth_run "${contenders[$(((index + round - 1) % ${#contenders[@]}))]}" "$round"
    done
done
blob_bytes=$(awk -F'\t' '{print $3}' "$work/urls" | while read -r url; do curl -sfI "$url" | tr -d '\r' |
    awk -F': ' 'tolower($1) == "content-length" {print $2}'; done | paste -sd+ | bc)
stop_sim
bandwidth_summary=$(python3 - "$work" "$rounds" "$blob_bytes" <<'PY'
import re, statistics, sys

work, rounds, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = ("archive", "download", "python", "curl-tar")

def run(name, round):
    seconds = float(open(f"{work}/bw-{name}.{round}.seconds").read())
    text = open(f"{work}/bw-{name}.{round}.time").read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
    cpu = sum(float(re.search(label + r": ([\d.]+)", text).group(1)) for label in ("User time \(seconds\)", "System time \(seconds\)"))
    return seconds, rss, cpu

runs = {name: [run(name, r) for r in range(1, rounds + 1)] for name in names}
print(f"(2) bandwidth: {total / (1 << 20):.0f} MiB per run, {rounds} alternated rounds, medians:")
for name in names:
    wall = statistics.median(r[0] for r in runs[name])
    cpu = statistics.median(r[2] for r in runs[name])
    rss = max(r[1] for r in runs[name])
    walls = ", ".join(f"{r[0]:.2f}" for r in runs[name])
    print(f"    {name:9s} {wall:6.2f} s  {total / wall / (1 << 20):7.1f} MiB/s  cpu {cpu:6.2f} s  peak RSS {rss:6.1f} MiB  ({walls})")
def ratio(other):
    values = [runs[other][r][0] / runs["archive"][r][0] for r in range(rounds)]
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"
print(f"    archive vs python baseline: {ratio('python')} x (target >= 1.3); vs curl+sha*sum+tar: {ratio('curl-tar')} x")
packing = [runs["archive"][r][0] / runs["download"][r][0] - 1 for r in range(rounds)]
print(f"    packing cost over download: {statistics.median(packing) * 100:.0f} % (target <= 25 %); "
      f"archive peak RSS {max(r[1] for r in runs['archive']):.1f} MiB (target <= 48)")
PY
)
fi

if [ "$bandwidth_only" -eq 0 ] && [ "$listing_only" -eq 0 ]; then
# --- 3. Peak RSS over 200 recordings -------------------------------------------------------------------------
echo "bench-archive: (3) peak RSS over 200 recordings" >&2
start_sim rss --recordings 200 --rate-per-minute 6000 --daily-limit 1000000
archive rss 6000 --concurrency 4
rss_seconds=$seconds
reports=("$work/rss/.userplane-archiver/runs/"*.json)
rss_archived=$(jq .counts.archived "${reports[0]}")
stop_sim
fi

echo
echo "== bench-archive summary ($configuration, $(nproc) cores) =="
if [ "$bandwidth_only" -eq 0 ] && [ "$listing_only" -eq 0 ]; then
    printf '(1) quota: %d recordings (%d archived, %d deferred) in %.1f s: %d API calls = %.1f/min; L=%d/min -> %.3f of L (target >= 0.95)\n' \
        "$recordings" "$archived" "$deferred" "$quota_seconds" "$calls" "$per_minute" "$rate" "$efficiency"
    printf '    429s: %d (target 0); max calls in any 60 s window: %d; calls/recording: %.2f overall, %.2f per archived recording\n' \
        "$limited" "$window_max" "$per_recording" "$per_archived"
fi
if [ "$listing_only" -eq 0 ]; then echo "$bandwidth_summary"; fi
if [ "$bandwidth_only" -eq 0 ] && [ "$listing_only" -eq 0 ]; then
    printf '(3) peak RSS: %.1f MiB over %d recordings archived in %.1f s (target <= 96 MiB)\n' \
        "$(echo "$rss_kib / 1024" | bc -l)" "$rss_archived" "$rss_seconds"
fi
if [ "$bandwidth_only" -eq 0 ]; then
    printf '(4) listing, %d recordings: first run (%s) %d list calls, %d API calls, %d archived\n' \
        "$listing_recordings" "$first_mode" "$first_list" "$first_calls" "$first_archived"
    printf '    rerun with %d new (%s): %d list calls, %d API calls, %d archived\n' \
        "$listing_new" "$new_mode" "$new_list" "$new_calls" "$new_archived"
    printf '    rerun with nothing new (%s): %d list calls, %d API calls; --full-listing (%s): %d list calls, %d API calls\n' \
        "$none_mode" "$none_list" "$none_calls" "$full_mode" "$full_list" "$full_calls"
fi
