#!/usr/bin/env bash
# Prepares a machine to build and run LaptopDiff. Idempotent: a second run only checks.
#
# TorchSharp-cpu 0.107.0 bundles libtorch 2.10, whose native library needs a libstdc++ that exports
# GLIBCXX_3.4.32 (GCC 13+). Debian 13 and Ubuntu 24.04 have it; Debian 12 ships GCC 12's. On Debian 12
# this script installs libstdc++6 (and only what it depends on) from Debian 13 "trixie" through one
# temporary apt source that it removes again afterwards.
set -euo pipefail

say() { printf '[setup] %s\n' "$*"; }
fail() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

need_symbol=GLIBCXX_3.4.32
trixie_list=/etc/apt/sources.list.d/laptopdiff-trixie.list

find_libstdcxx() {
  local candidates=(/usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6)
  for f in "${candidates[@]}"; do [ -e "$f" ] && { readlink -f "$f"; return 0; }; done
  ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 /{print $NF; exit}'
}

has_symbol() { local lib; lib=$(find_libstdcxx); [ -n "$lib" ] && grep -qa "$need_symbol" "$lib"; }

# 1. .NET SDK: no registry reachable here serves it, so it must already be installed.
if ! command -v dotnet >/dev/null 2>&1; then
  fail "the .NET 10 SDK is not installed (dotnet is not on PATH). Install it from https://dot.net and run this again."
fi
sdk_major=$(dotnet --version 2>/dev/null | cut -d. -f1)
[ "${sdk_major:-0}" -ge 10 ] || fail "the .NET SDK is $(dotnet --version); LaptopDiff needs .NET 10 or newer."
say ".NET SDK $(dotnet --version) found."

# 2. libstdc++ with GLIBCXX_3.4.32 for libtorch.
if has_symbol; then
  say "libstdc++ exports $need_symbol ($(find_libstdcxx)); nothing to install."
else
  os_id=$(. /etc/os-release 2>/dev/null; echo "${ID:-unknown}")
  os_ver=$(. /etc/os-release 2>/dev/null; echo "${VERSION_ID:-unknown}")
  if [ "$os_id" != debian ] || [ "$os_ver" != 12 ]; then
    fail "libstdc++ lacks $need_symbol, which TorchSharp's libtorch needs, and this is $os_id $os_ver, where this script cannot install it. Install GCC 13's libstdc++ (Debian 13, Ubuntu 24.04 or newer have it)."
  fi
  [ "$(id -u)" = 0 ] || fail "installing libstdc++6 from Debian 13 needs root; run: sudo bash build/setup.sh"
  say "libstdc++ lacks $need_symbol (Debian 12 has GCC 12's). Installing libstdc++6 from Debian 13 (trixie):"
  say "  adding the temporary apt source $trixie_list, installing libstdc++6 and what it needs, removing the source."
  trap 'rm -f "$trixie_list"' EXIT
  echo "deb http://deb.debian.org/debian trixie main" > "$trixie_list"
  apt-get update -qq -o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts=- \
    -o "Dir::Etc::SourceList=$trixie_list" >/dev/null || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  rm -f "$trixie_list"; trap - EXIT
  apt-get update -qq >/dev/null || true
  has_symbol || fail "libstdc++6 from trixie was installed but $need_symbol is still missing."
  say "libstdc++6 $(dpkg-query -W -f='${Version}' libstdc++6) installed; $need_symbol present."
fi

# 3. A font for text in plots and sample grids (fonts-dejavu-core), optional.
if ! [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing fonts-dejavu-core (text in plots and sample grids)."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null; } \
      || say "could not install fonts-dejavu-core; plots will have no text."
  fi
fi
say "ready."
