/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Pieces shared by xenfitd's native methods (daemon/native.c) and the
 * simulator's test helpers (daemon/native-sim.c).
 */
#ifndef XENFITD_NATIVE_H
#define XENFITD_NATIVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "rpc.h"
#include "xenfit/admit.h"
#include "xenfit/engine.h"

/* Parameter i as a VM object ({type, static_max_mib, target_mib, vcpus,
 * video_mib, shadow_multiplier, hard_affinity}); sets the error and returns
 * false when it is not one. */
bool xfd_native_vm_arg(struct xfd_call *call, size_t i, struct xf_admit_request *ret);

/* The VM object's optional "name" (a label for records: xl's name=), or "".
 * Valid while the call's params live. */
const char *xfd_native_vm_name(struct xfd_call *call, size_t i);

/* Build records (daemon/native-builds.c): a refused VM reservation, an
 * observed build. */
void xfd_event_refused(struct xfd_call *call, const char *session,
                       const struct xf_admit_request *req, const char *name,
                       const struct xf_engine_outcome *o);
struct xf_engine_observed;
void xfd_event_observed(struct xfd_call *call, const struct xf_admit_request *req, const char *name,
                        uint64_t taken_kib, const struct xf_engine_observed *ob);
extern const struct xfd_method xfd_build_methods[];
extern const size_t xfd_nr_build_methods;

/* Answers XF_ELIMIT: Internal_error naming the session's and the host's
 * pending reservations and the limits (daemon/methods.c). */
void xfd_fail_limit(struct xfd_call *call, const char *session);

/* A reservation as the native methods show it (a new reference). */
json_t *xfd_native_resv_json(struct xfd_ctx *ctx, const struct xf_engine_resv *r);

/* xenfit.sim_domain_create [dbg, kib, running]: a domain holding `kib` in the
 * simulator, unpaused when running; its domid. xenfit.sim_domain_destroy
 * [dbg, domid]: destroys it and lets simulated time pass until its memory
 * is back. Offered only with the simulator backend. */
void xfd_native_sim_create(struct xfd_call *call);
void xfd_native_sim_destroy(struct xfd_call *call);
/* xenfit.sim_advance_time [dbg, ms]: moves the daemon's clocks `ms` ahead
 * (ctx->clock_skew_ns), as if that time had passed at once: reservations
 * age, the next periodic sweep is due, connections look idle. Returns the
 * total advance in ms. Offered only with the simulator backend. */
void xfd_native_sim_advance_time(struct xfd_call *call);

/* Ballooning (daemon/native-balloon.c): a squeeze as JSON (a new
 * reference) and as a line of text for get_diagnostics (NULL: none yet);
 * the idle balance squeezed runs every balance-check-interval (startup: the
 * one xenfitd runs as it starts, logged even when nothing is to change); the methods
 * xenfit.last_squeeze, xenfit.squeeze, xenfit.balance, xenfit.sim_balloon. */
json_t *xfd_squeeze_json(const struct xf_engine_squeeze *sq);
void xfd_squeeze_text(const struct xf_engine_squeeze *sq, char *buf, size_t size);
void xfd_balance_idle(struct xf_engine *e, bool startup);
extern const struct xfd_method xfd_balloon_methods[];
extern const size_t xfd_nr_balloon_methods;

#endif
