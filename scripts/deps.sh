#!/usr/bin/env bash
# Install the Debian 12 packages a make target needs, and only those missing.
# Usage: scripts/deps.sh GROUP...   with GROUP in build, test, bench, fuzz.
# Idempotent; costs one dpkg-query when nothing is missing.
set -euo pipefail

declare -A GROUPS_PKGS=(
  [build]="cmake make gcc pkg-config libuv1-dev libhttp-parser-dev libssl-dev libyaml-dev libjansson-dev libhiredis-dev libxml2-dev libxxhash-dev"
  [test]="libcmocka-dev python3 python3-pytest redis-server curl openssl"
  [bench]="wrk nginx-light redis-server util-linux"
  [fuzz]="clang libclang-rt-14-dev"
)

want=()
for g in "${@:-build}"; do
  if [[ -z "${GROUPS_PKGS[$g]+x}" ]]; then
    echo "deps.sh: unknown group '$g', expected build, test, bench or fuzz" >&2
    exit 2
  fi
  read -r -a pkgs <<<"${GROUPS_PKGS[$g]}"
  want+=("${pkgs[@]}")
done

installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${want[@]}" 2>/dev/null |
            awk '$2 == "installed" { print $1 }' || true)
missing=()
for p in "${want[@]}"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  echo "deps.sh: missing packages and not root; run: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Packages that ship a system service must not hold ports the tests use.
for svc in nginx redis-server; do
  if systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
    systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done
