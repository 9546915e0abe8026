# Pinned tool versions (sourced by scripts/*).
BUN_VERSION=1.4.5
ZIG_VERSION=0.15.2
PYNACL_VERSION=1.6.2
