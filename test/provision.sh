#!/usr/bin/env bash
# What the tests need from the machine besides Node and npm (`npm test` runs this first):
# - Python 3 with NumPy, pandas, scikit-learn, cloudpickle, ONNX and PyYAML: the model workers, and
#   the test models built at test time;
# - MariaDB: the MySQL engine behind the feature-lookup tests' local RDS Data API (the tests start
#   their own throwaway server; the package's service is not used);
# - Chromium and a font: the web console's browser tests (driven by playwright-core; no browser is
#   downloaded).
# Installed packages are left as they are; missing ones are installed with apt-get when running as
# root, otherwise the exact command is printed and the script fails.
set -euo pipefail

PACKAGES=(
  python3 python3-numpy python3-pandas python3-sklearn python3-cloudpickle python3-onnx python3-yaml
  mariadb-server
  chromium fonts-dejavu-core
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

command="apt-get install -y --no-install-recommends ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need these Debian packages, and this machine has no apt-get: ${missing[*]}" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "The tests need packages this machine lacks. Install them, then run the tests again:" >&2
  echo "  sudo apt-get update && sudo $command" >&2
  exit 1
fi

echo "Installing what the tests need: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
