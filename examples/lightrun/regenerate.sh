#!/usr/bin/env bash
# Rebuild the example stores from scratch (new random values!), with the DEMO key.
#
#   cd examples/lightrun && ./regenerate.sh
#
# Afterwards refresh the golden files: see tests/golden/README.md. In a real repository you
# never regenerate a store: you run `sopsgen generate` (creates only what is missing),
# `sopsgen set NAME` for provided values and `sopsgen rotate encryption-key`.
set -euo pipefail
cd "$(dirname "$0")"
export SOPS_AGE_KEY_FILE="$PWD/demo-DO-NOT-USE.agekey"

for env in staging prod; do
  spec="envs/$env/sopsgen.yaml"
  rm -f "envs/$env/secrets.sops.yaml"
  # Provided values: placeholders a human would set (never put real ones in a script).
  printf 'lightrun_%s' "$env"               | sopsgen set db-user "$spec"
  printf 'demo-mail-password-%s' "$env"     | sopsgen set mail-password "$spec"
  printf 'demo-license-content-%s' "$env"   | sopsgen set license-content "$spec"
  printf 'demo-license-signature-%s' "$env" | sopsgen set license-signature "$spec"
  printf 'lightrun-%s' "$env"               | sopsgen set rabbitmq-user "$spec"
  sopsgen generate "$spec"
done
# prod has been rotated once: its backend Secret carries encryption-key-0 and -1.
sopsgen rotate encryption-key --spec envs/prod/sopsgen.yaml
