#!/bin/sh
# Registers the namespace novade-sync uses, once.
set -eu
ns="${DEFAULT_NAMESPACE:-default}"
temporal operator namespace describe -n "$ns" >/dev/null 2>&1 || temporal operator namespace create -n "$ns" --retention 30d
echo "Namespace $ns ready"
