#!/usr/bin/env bash
# Builds userplane-archiver in release mode and installs the binary, its man page, shell completions
# (bash, zsh, fish) and the contrib/ examples under a prefix.
#
#   Scripts/install.sh                       # into /usr/local
#   Scripts/install.sh --prefix "$HOME/.local"
#   Scripts/install.sh --prefix /usr --destdir "$PWD/pkgroot"   # staged, for packaging
#
# The man page comes from swift-argument-parser's generate-manual plugin. The plugin builds every
# product of the package in the configuration it is given; the page does not depend on it, so it
# runs in debug mode (which developers have built already) unless --man-configuration release.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local
destdir=""
man_configuration=debug
usage() {
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    echo "options: --prefix DIR (default /usr/local), --destdir DIR, --man-configuration debug|release"
}
while [ $# -gt 0 ]; do
    case "$1" in
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --destdir) destdir="${2:?--destdir needs a directory}"; shift 2 ;;
    --destdir=*) destdir="${1#--destdir=}"; shift ;;
    --man-configuration) man_configuration="${2:?--man-configuration needs debug or release}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument '$1'" >&2; usage >&2; exit 64 ;;
    esac
done
case "$man_configuration" in debug | release) ;; *) echo "install.sh: --man-configuration is debug or release" >&2; exit 64 ;; esac

root="${destdir}${prefix}"
echo "==> building userplane-archiver (release)"
swift build -c release --product userplane-archiver
binary="$(swift build -c release --show-bin-path)/userplane-archiver"

echo "==> generating the man page ($man_configuration build)"
swift package plugin generate-manual --configuration "$man_configuration" >/dev/null
man_page=".build/plugins/GenerateManual/outputs/userplane-archiver/userplane-archiver.1"
[ -s "$man_page" ] || { echo "install.sh: the man page was not generated at $man_page" >&2; exit 1; }

completions="$(mktemp -d)"
trap 'rm -rf "$completions"' EXIT
for shell in bash zsh fish; do
    "$binary" --generate-completion-script "$shell" >"$completions/$shell"
    [ -s "$completions/$shell" ] || { echo "install.sh: empty $shell completion script" >&2; exit 1; }
done

echo "==> installing under $root"
install -d "$root/bin" "$root/share/man/man1" "$root/share/bash-completion/completions" \
    "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d" \
    "$root/share/doc/userplane-archiver/systemd" "$root/share/doc/userplane-archiver/cron"
install -m 0755 "$binary" "$root/bin/userplane-archiver"
install -m 0644 "$man_page" "$root/share/man/man1/userplane-archiver.1"
install -m 0644 "$completions/bash" "$root/share/bash-completion/completions/userplane-archiver"
install -m 0644 "$completions/zsh" "$root/share/zsh/site-functions/_userplane-archiver"
install -m 0644 "$completions/fish" "$root/share/fish/vendor_completions.d/userplane-archiver.fish"
install -m 0644 contrib/config.example.toml contrib/README.md "$root/share/doc/userplane-archiver/"
install -m 0644 contrib/systemd/userplane-archiver.service contrib/systemd/userplane-archiver.timer \
    "$root/share/doc/userplane-archiver/systemd/"
install -m 0644 contrib/cron/userplane-archiver "$root/share/doc/userplane-archiver/cron/"
if [ "$prefix" != /usr/local ]; then
    echo "note: the unit files and cron example call /usr/local/bin/userplane-archiver; adjust ExecStart for $prefix"
fi
echo "installed: $root/bin/userplane-archiver, man page, bash/zsh/fish completions, examples in $root/share/doc/userplane-archiver"
