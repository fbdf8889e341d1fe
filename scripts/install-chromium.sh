#!/bin/sh
# Installs a headless-capable Chromium for the console's browser test
# (cmd/accrual: TestConsoleBrowser). Idempotent: does nothing when one is
# already on PATH. Needs root (or sudo) and apt-get (Debian/Ubuntu).
set -eu
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then
		echo "install-chromium: $(command -v "$b") already installed"
		exit 0
	fi
done
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-chromium: no apt-get here; install chromium by hand" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "install-chromium: not root and no sudo" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
command -v chromium
