/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Fault injection and call counting, after SQLite's test harness: every
 * operation enters through xf__sim_enter(), which counts the call and fires
 * a fault armed for that call number. A faulted call has no other effect
 * than the time a hypercall takes.
 */
#include <string.h>

#include "sim-internal.h"
#include "xenfit/error.h"

static const char *const op_names[XF_SIM_OP_COUNT] = {
    [XF_SIM_OP_PHYSINFO] = "physinfo",
    [XF_SIM_OP_NUMAINFO] = "numainfo",
    [XF_SIM_OP_CPUTOPO] = "cputopo",
    [XF_SIM_OP_DOMAIN_LIST] = "domain_list",
    [XF_SIM_OP_DOMAIN_INFO] = "domain_info",
    [XF_SIM_OP_DOMAIN_CREATE] = "domain_create",
    [XF_SIM_OP_SET_MAX_VCPUS] = "set_max_vcpus",
    [XF_SIM_OP_SET_MAX_PAGES] = "set_max_pages",
    [XF_SIM_OP_SET_PAGING_POOL] = "set_paging_pool",
    [XF_SIM_OP_CLAIM] = "claim",
    [XF_SIM_OP_POPULATE] = "populate",
    [XF_SIM_OP_DECREASE] = "decrease",
    [XF_SIM_OP_SET_NODE_AFFINITY] = "set_node_affinity",
    [XF_SIM_OP_UNPAUSE] = "unpause",
    [XF_SIM_OP_DESTROY] = "destroy",
    [XF_SIM_OP_SLEEP] = "sleep",
    [XF_SIM_OP_EXTENT] = "extent",
    [XF_SIM_OP_BALLOON_INFO] = "balloon_info",
    [XF_SIM_OP_SET_BALLOON_TARGET] = "set_balloon_target",
    [XF_SIM_OP_SET_MEMORY_OFFSET] = "set_memory_offset",
    [XF_SIM_OP_SET_UNCOOPERATIVE] = "set_uncooperative",
};

const char *xf_sim_op_name(enum xf_sim_op op)
{
    return (unsigned)op < XF_SIM_OP_COUNT ? op_names[op] : NULL;
}

int xf_sim_op_parse(const char *name, enum xf_sim_op *ret)
{
    if (!name)
        return XF_EINVAL;
    for (unsigned i = 0; i < XF_SIM_OP_COUNT; i++) {
        if (strcmp(name, op_names[i]) == 0) {
            *ret = (enum xf_sim_op)i;
            return 0;
        }
    }
    return XF_EINVAL;
}

int xf__sim_enter(struct xf_sim *s, enum xf_sim_op op)
{
    uint64_t call = ++s->stats.calls[op];

    for (uint32_t i = 0; i < s->nr_faults; i++) {
        if (s->faults[i].op == op && s->faults[i].at_call == call) {
            int err = s->faults[i].err;
            s->faults[i] = s->faults[--s->nr_faults];
            s->stats.faults_fired++;
            return err;
        }
    }
    return 0;
}

int xf_sim_inject_fault(struct xf_hv *hv, enum xf_sim_op op, uint64_t nth, int err)
{
    struct xf_sim *s;

    if (!xf_sim_is(hv) || (unsigned)op >= XF_SIM_OP_COUNT || nth == 0 || err >= 0)
        return XF_EINVAL;
    s = xf__sim_of(hv);
    if (s->nr_faults >= SIM_MAX_FAULTS)
        return XF_ENOSPC;
    s->faults[s->nr_faults++] =
        (struct sim_fault){.op = op, .at_call = s->stats.calls[op] + nth, .err = err};
    return 0;
}

void xf_sim_clear_faults(struct xf_hv *hv)
{
    if (xf_sim_is(hv))
        xf__sim_of(hv)->nr_faults = 0;
}
