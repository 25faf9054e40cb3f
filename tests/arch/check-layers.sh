#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# The layers of docs/architecture.md, checked on the sources: a file may
# include xenfit's public headers of its own layer and the layers below, never
# above. core < hv < toolstack < scenario; the client stands alone.
# Usage: check-layers.sh SOURCE_DIR. Prints each violation; exit 1 if any.
set -euo pipefail
top=${1:?usage: check-layers.sh SOURCE_DIR}
cd "$top"

core="types error units alloc model calibrate claims ledger host admit topology planner squeeze pool"
hv="$core hv sim hv-xen"
toolstack="$hv build wait engine"
scenario="$toolstack scenario"
client="client"

layer_of_header() {
    local h=$1 l
    case " $core " in *" $h "*) echo core; return ;; esac
    case " hv sim hv-xen " in *" $h "*) echo hv; return ;; esac
    case " build wait engine " in *" $h "*) echo toolstack; return ;; esac
    case "$h" in scenario) echo scenario; return ;; client) echo client; return ;; esac
    echo unknown
}

fail=0
# check FILE ALLOWED...: every "xenfit/X.h" FILE includes must be in ALLOWED.
check() {
    local file=$1 allowed=$2 inc
    for inc in $(sed -n 's|^#include "xenfit/\([a-z-]*\)\.h".*|\1|p' "$file"); do
        case " $allowed " in
        *" $inc "*) ;;
        *)
            echo "layer violation: $file includes xenfit/$inc.h ($(layer_of_header "$inc") layer)"
            fail=1
            ;;
        esac
    done
}

for h in $core; do check "include/xenfit/$h.h" "$core"; done
for h in hv sim hv-xen; do check "include/xenfit/$h.h" "$hv"; done
for h in build wait engine; do check "include/xenfit/$h.h" "$toolstack"; done
check include/xenfit/scenario.h "$scenario"
check include/xenfit/client.h "$client"

for f in lib/core/*.[ch]; do check "$f" "$core"; done
for f in lib/hv/*.[ch] lib/hv/*/*.[ch]; do check "$f" "$hv"; done
for f in lib/toolstack/*.[ch]; do check "$f" "$toolstack"; done
for f in lib/scenario/*.[ch]; do check "$f" "$scenario"; done
for f in lib/client/*.[ch]; do check "$f" "$client"; done

# Every public header belongs to a layer.
for f in include/xenfit/*.h; do
    h=$(basename "$f" .h)
    if [ "$(layer_of_header "$h")" = unknown ]; then
        echo "layer violation: include/xenfit/$h.h belongs to no layer (tests/arch/check-layers.sh)"
        fail=1
    fi
done

# The core does no I/O and never reaches a backend.
if grep -nE '\bxf_(hv|sim)_[a-z_]+\(|\b(fopen|printf|fprintf|open|read|write)\(' lib/core/*.c \
    | grep -vE '^\S+:[0-9]+:\s*(\*|/\*)'; then
    echo "layer violation: the core above calls a backend or does I/O"
    fail=1
fi

if [ "$fail" -eq 0 ]; then
    echo "check-layers: every include follows core < hv < toolstack < scenario; client alone"
fi
exit "$fail"
