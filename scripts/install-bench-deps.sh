#!/usr/bin/env bash
# Installs the Debian packages the benchmarks drive, when they are missing. A fresh machine
# starts without them; no baseline is ever skipped for a missing tool.
set -euo pipefail

packages=(
  openssh-server     # /usr/sbin/sshd: the OpenSSH `-L` tunnel baseline, private config on 127.0.0.1
  openssh-client     # ssh (the -L forward) and ssh-keygen (throwaway host and client keys)
  haproxy            # the relay's topology in C (three processes, four TLS ends): what this machine allows it
  procps             # kill, ps: stopping the peers the benchmark starts
)

"$(dirname "$0")/install-packages.sh" "${packages[@]}"
