#!/usr/bin/env bash
# Builds the Linux .deb into target/packages/ with cargo-packager (installed from crates.io into
# <target dir>/tools/ when missing). No arguments. The binary is the `dist` profile's (thin LTO, one
# codegen unit, stripped); DEB_PROFILE=dev packages the dev profile's instead (CI does, to stay
# well within its time).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${DEB_PROFILE:-dist}"
target="${CARGO_TARGET_DIR:-target}"
tools="$(cd "$target" 2>/dev/null && pwd || echo "$PWD/$target")/tools"
packager="$tools/bin/cargo-packager"
if [ ! -x "$packager" ]; then
  echo "== installing cargo-packager into $tools (once)"
  cargo install --quiet --locked cargo-packager --version 0.11.8 --root "$tools"
fi
echo "== building the $profile binary"
# (The dev profile without debug information, as CI builds it.)
export CARGO_PROFILE_DEV_DEBUG=false
cargo build --locked --profile "$profile" --bin campaign-console
case "$profile" in dev) built="$target/debug" ;; *) built="$target/$profile" ;; esac
# The packaged binary, stripped (the dist profile's already is), where Cargo.toml's
# binaries-dir says.
bin_dir="target/packages/bin"
mkdir -p "$bin_dir"
cp "$built/campaign-console" "$bin_dir/campaign-console"
strip "$bin_dir/campaign-console"
echo "== packaging $built/campaign-console ($(du -h "$bin_dir/campaign-console" | cut -f1) stripped)"
"$packager" --formats deb --out-dir target/packages
deb="$(ls target/packages/campaign-console_*.deb | head -1)"
# The binary packaged is the one built here (not another the packager found).
packaged="$(dpkg-deb -c "$deb" | awk '$6 == "./usr/bin/campaign-console" || $6 == "usr/bin/campaign-console" {print $3}')"
if [ "$packaged" != "$(stat -c %s "$bin_dir/campaign-console")" ]; then
  echo "the .deb holds a binary of $packaged bytes, not the $profile one just built" >&2
  exit 1
fi
ls -l "$deb"
