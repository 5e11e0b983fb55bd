#!/usr/bin/env bash
# Validates deploy/k8s/*.yaml against the Kubernetes JSON schemas (strict:
# unknown fields are errors) with kubernetes-validate from PyPI, which bundles
# the schemas and runs offline once installed. Then checks that the validator
# really rejects a broken manifest, so a silently passing tool is caught.
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION="${K8S_VERSION:-1.33.0}"
VALIDATOR_VERSION="1.37.0"
VENV="${FORKV_VALIDATE_VENV:-target/k8s-validate-venv}"

if ! "$VENV/bin/kubernetes-validate" --version 2>/dev/null | grep -qx "$VALIDATOR_VERSION"; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$VALIDATOR_VERSION"
fi
validate() { "$VENV/bin/kubernetes-validate" --strict --kubernetes-version "$K8S_VERSION" "$@"; }

validate deploy/k8s/*.yaml

broken="$(mktemp --suffix=.yaml)"
trap 'rm -f "$broken"' EXIT
# Two mistakes a YAML parser would accept: a string replica count and a
# misspelled field.
sed -e 's/replicas: 1/replicas: "one"/' -e 's/terminationGracePeriodSeconds:/terminationGracePeriodSecs:/' \
    deploy/k8s/statefulset.yaml >"$broken"
if validate --quiet "$broken" >/dev/null 2>&1; then
    echo "kubernetes-validate accepted a broken manifest; the validation step is not working" >&2
    exit 1
fi
echo "kubernetes-validate rejects a broken manifest, as it should"
