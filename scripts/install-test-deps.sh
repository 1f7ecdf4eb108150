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
  x11-utils          # xprop: copies text on the host (the X cut buffer x11vnc watches) and reads it back
  zbar-tools         # zbarimg: reads the two-factor QR code off a screenshot, as a phone would
  xdotool            # reads and moves the X pointer
  tinyproxy          # a real HTTP CONNECT proxy between a module and the appliance
  chromium           # the browser Playwright drives for the web console tests (never its own download)
  python3-aiosmtpd   # the real SMTP smarthost (/usr/bin/python3 -m aiosmtpd) the mail tests deliver to
  pebble             # a real ACME CA (and pebble-challtestsrv's DNS) that validates http-01 against the appliance
  lintian            # checks the .deb packages
  wixl msitools      # build the .msi packages; msiinfo/msiextract read them back
  debootstrap        # a throw-away Debian root the .deb packages are installed into
)

"$(dirname "$0")/install-packages.sh" "${packages[@]}"
"$(dirname "$0")/make-test-root.sh"
