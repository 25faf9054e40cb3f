# SPDX-License-Identifier: LGPL-2.1-only
#
# xen-backend: what only real Xen shows about the backend
# (tests/xen/test-xen-backend.c): a domain's vCPU count is fixed when it is
# created, PV domains have no paging pool, PVH ones do, Xen 4.17 raises an
# active claim by the pages a domain frees, populate reports a missing or
# dying domain, the DMA zone is on the first node only.
. /xenfit/lib.sh

test-xen-backend
