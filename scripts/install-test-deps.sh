#!/usr/bin/env bash
# Installs the Debian packages the tests drive, when they are missing. A fresh machine (and CI)
# starts without them; no test is ever skipped for a missing tool.
set -euo pipefail

packages=(
  curl               # a client that trusts only the exported appliance CA (--cacert)
  openssl            # certificate checks from outside .NET
  xvfb               # a headless X display (Xvfb) that a real VNC server can share
  x11vnc             # the real VNC (RFB 3.8) server on that display, loopback only
  x11-xserver-utils  # xsetroot: paints the root window a known colour
  xdotool            # reads and moves the X pointer
  tinyproxy          # a real HTTP CONNECT proxy between a module and the appliance
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing test packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
