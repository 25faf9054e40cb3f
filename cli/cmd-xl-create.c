/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit xl-create: `xl create` with xenfit's placement. It reads the xl
 * config (cli/xlcfg.h), reserves the VM with xenfitd (xenfit.reserve_vm:
 * admission, NUMA plan and claim in one atomic step, so parallel xl-creates
 * see each other) or, when no daemon runs, decides against the host as it
 * is; then runs xl on a copy of the config with the plan added in what libxl
 * honours, ties the reservation to the new domain, and records the build.
 *
 * The plan reaches Xen as vCPU soft affinity: `cpus_soft = "node:N,..."`
 * appended to the copy (a later setting of a key replaces an earlier one:
 * libxlu_cfg.c find() returns the newest). With a soft affinity libxl runs
 * no NUMA placement of its own (xl_parse.c parse_vcpu_affinity sets
 * numa_placement false; libxl_dom.c libxl__build_pre), and Xen derives the
 * domain's node affinity from its vCPUs' hard and soft affinity
 * (xen/common/sched/core.c domain_update_node_aff), which is where
 * populate_physmap takes memory first (xen/common/page_alloc.c
 * get_free_buddy). The plan never leaves the nodes of pinned CPUs (cpus=):
 * those nodes are the only ones admission may use (nodes_allowed), and a VM
 * that does not fit them is refused before xl runs. Claims: xl 4.17 claims
 * a domain's memory when claim_mode is on, which is its default (xl.c
 * `int claim_mode = 1`), unless the global /etc/xen/xl.conf turns it off:
 * then xl-create warns. (All at Xen RELEASE-4.17.7, 9373a593c5a6.)
 *
 * Failure leaves nothing reserved: xl missing or failing, the domain not
 * found after it, delete the reservation and record the failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "xenfit/admit.h"
#include "xenfit/client.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/units.h"

static const char *const CMD = "xl-create";
#define SESSION "xenfit-xl-create"

void xf_usage_xl_create(void)
{
    printf("Usage: xenfit xl-create VM.cfg [--socket PATH | --local [--backend B] [--host SPEC]]\n"
           "                       [--xl PATH] [--xl-conf PATH] [--session NAME]\n"
           "                       [-- XL-CREATE-OPTIONS]\n\n"
           "Creates the domain of an xl config with xenfit's placement: reserves it with\n"
           "xenfitd (admission, NUMA plan and claim in one step: parallel xl-creates see\n"
           "each other's reservations), or decides against the host when no xenfitd\n"
           "answers on the default socket; runs `xl create` on a copy of the config with\n"
           "the plan added as cpus_soft=\"node:N\" (libxl then leaves placement to it,\n"
           "and Xen puts the memory on those nodes), ties the reservation to the new\n"
           "domain (xl domid NAME) and records the build (xenfit events). A VM that does\n"
           "not fit is refused with the numbers before xl runs; cpus= (pinned vCPUs) keeps\n"
           "its memory on the pinned CPUs' nodes. If xl fails, the reservation is\n"
           "released and the failure recorded: nothing stays reserved.\n\n"
           "  --socket PATH   xenfitd's socket; it must answer (default $XENFITD_SOCKET or\n"
           "                  %s, and without a daemon there: decide locally)\n"
           "  --local         decide against the host without asking xenfitd\n"
           "  --backend, --host  the host for a local decision, as for xenfit admit (the\n"
           "                  default backend is the first built: xen where it is)\n"
           "  --xl PATH       the xl to run (default: xl on PATH)\n"
           "  --xl-conf PATH  xl's global config, for claim_mode (default /etc/xen/xl.conf)\n"
           "  -- ...          options for xl create (-p, -q, -e, -c, -V ...); not -n, -F,\n"
           "                  -f or key=value overrides (put them in the config)\n\n"
           "Exit status: 0 created, 1 refused or failed, 2 bad input.\n",
           XFD_CLIENT_SOCKET_DEFAULT);
}

enum { OPT_SOCKET = 500, OPT_LOCAL, OPT_BACKEND, OPT_HOST, OPT_XL, OPT_XL_CONF, OPT_SESSION };

struct xl_args {
    const char *cfg, *socket, *backend, *host, *xl, *xl_conf, *session;
    bool socket_given, local;
    char **xl_argv; /* after "--" */
    int xl_argc;
};

static int parse_args(int argc, char **argv, struct xl_args *a)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"local", no_argument, NULL, OPT_LOCAL},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"host", required_argument, NULL, OPT_HOST},
        {"xl", required_argument, NULL, OPT_XL},
        {"xl-conf", required_argument, NULL, OPT_XL_CONF},
        {"session", required_argument, NULL, OPT_SESSION},
        {NULL, 0, NULL, 0},
    };
    int c;

    *a = (struct xl_args){.socket = xf_cli_socket_default(),
                          .xl = "xl",
                          .xl_conf = "/etc/xen/xl.conf",
                          .session = SESSION};
    /* xl's options are what follows "--": kept away from getopt. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            a->xl_argv = argv + i + 1;
            a->xl_argc = argc - i - 1;
            argc = i;
            break;
        }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_SOCKET:
            a->socket = optarg;
            a->socket_given = true;
            break;
        case OPT_LOCAL:
            a->local = true;
            break;
        case OPT_BACKEND:
            a->backend = optarg;
            break;
        case OPT_HOST:
            a->host = optarg;
            break;
        case OPT_XL:
            a->xl = optarg;
            break;
        case OPT_XL_CONF:
            a->xl_conf = optarg;
            break;
        case OPT_SESSION:
            a->session = optarg;
            break;
        default:
            return xf_cli_bad_option(CMD, argc, argv);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (a->cfg)
            return xf_cli_usage_error(CMD, "unexpected argument '%s' (xl's options go after --)",
                                      argv[i]);
        a->cfg = argv[i];
    }
    if (!a->cfg)
        return xf_cli_usage_error(CMD, "which xl config? (xenfit xl-create VM.cfg)");
    if (a->local && a->socket_given)
        return xf_cli_usage_error(CMD, "--local decides without xenfitd: no --socket with it");
    if ((a->backend || a->host) && a->socket_given)
        return xf_cli_usage_error(CMD, "--backend and --host are for a local decision: not with "
                                       "--socket");
    for (int i = 0; i < a->xl_argc; i++) {
        const char *x = a->xl_argv[i];
        if (strcmp(x, "-n") == 0 || strcmp(x, "--dryrun") == 0 || strcmp(x, "-F") == 0 ||
            strncmp(x, "-f", 2) == 0 || strncmp(x, "--defconfig", 11) == 0 ||
            (x[0] != '-' && strchr(x, '=')))
            return xf_cli_usage_error(CMD,
                                      "xl option '%s' is not passed on: xl-create builds the "
                                      "domain of VM.cfg as planned (put settings in the config)",
                                      x);
    }
    return 0;
}

/* Whether `xl` can be run: a path that is executable, or a name on PATH. */
static bool xl_found(const char *xl)
{
    const char *path = getenv("PATH");
    char buf[4096];

    if (strchr(xl, '/'))
        return access(xl, X_OK) == 0;
    for (const char *p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *p;) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? p : ".", xl);
        if (access(buf, X_OK) == 0)
            return true;
        p += n + (e ? 1 : 0);
    }
    return false;
}

/* Runs xl with args[0..n) (copied: execvp wants them writable); returns
 * its exit status, 127 when it could not be run, -errno when no process
 * could be made. stdout is xl's own, or captured into out[0..len) when out
 * is given. */
static int run_xl(const char *xl, const char *const *args, size_t n, char *out, size_t len)
{
    char **argv = calloc(n + 2, sizeof(*argv));
    int fds[2] = {-1, -1}, status = 0, r = 0;
    pid_t pid = -1;

    if (!argv)
        return -ENOMEM;
    argv[0] = strdup(xl);
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = strdup(args[i]);
    for (size_t i = 0; i <= n; i++)
        if (!argv[i])
            r = -ENOMEM;
    if (r == 0 && out && pipe(fds) < 0)
        r = -errno;
    fflush(stdout);
    if (r == 0 && (pid = fork()) < 0)
        r = -errno;
    if (r == 0 && pid == 0) {
        if (out) {
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
        }
        execvp(xl, argv);
        _exit(127);
    }
    if (out && fds[0] >= 0) {
        size_t at = 0;
        ssize_t got;
        close(fds[1]);
        while (r == 0 && at + 1 < len && (got = read(fds[0], out + at, len - at - 1)) > 0)
            at += (size_t)got;
        out[at] = '\0';
        close(fds[0]);
    }
    while (pid > 0 && waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            r = -errno;
            break;
        }
    for (size_t i = 0; i <= n; i++)
        free(argv[i]);
    free(argv);
    if (r < 0)
        return r;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* xl.conf's claim_mode (xl.c parse_global_config): 1 unless set to 0. */
static void check_claim_mode(const char *xl_conf)
{
    struct xf_xl_source *src = NULL;
    char err[400];
    long l = 1;

    if (access(xl_conf, R_OK) != 0)
        return; /* no global config: xl's default, claims on */
    if (xf_xl_source_xlu(xl_conf, &src, err, sizeof(err)) == -ENOSYS &&
        xf_xl_source_builtin(xl_conf, &src, err, sizeof(err)) < 0)
        src = NULL;
    if (src && src->ops->get_long(src, "claim_mode", &l) == 0 && l == 0)
        fprintf(stderr,
                "xenfit: %s: warning: %s sets claim_mode=0: xl will build without a claim, and "
                "another allocation may take the planned memory first\n",
                CMD, xl_conf);
    xf_xl_source_free(src);
}

/* What was decided: the reservation (daemon) and the plan. */
struct decision {
    bool daemon;
    char id[64]; /* the reservation id (a UUID) */
    uint64_t nodes;
    char node_mib[160]; /* for the message */
};

/* "node:0,node:2": the plan as xl's cpus_soft (xl_parse.c update_cpumap_range). */
static void soft_affinity(uint64_t nodes, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (uint64_t m = nodes; m && at < len; m &= m - 1)
        at += (size_t)snprintf(buf + at, len - at, "%snode:%d", at ? "," : "", __builtin_ctzll(m));
}

/* No xenfitd answered on the default socket: decide locally. */
#define NO_DAEMON (-1)

/* Reserves with xenfitd. 0, NO_DAEMON, or an exit status. */
static int reserve(const struct xl_args *a, struct xf_cli_vm *v, struct decision *d)
{
    json_t *res = NULL, *err = NULL, *vm, *n;
    uint64_t nodes_allowed = 0;
    size_t i;
    int r;

    r = xf_cli_rpc_try(a->socket, "xenfit.host_status", json_pack("[s]", SESSION), &res, &err);
    json_decref(res);
    json_decref(err);
    if (r < 0 && !a->socket_given)
        return NO_DAEMON;
    if (r < 0)
        return xf_cli_failure(CMD, "cannot reach xenfitd at '%s': %s; nothing was reserved",
                              a->socket, strerror(-r));
    if ((r = xf_cli_xl_nodes_daemon(CMD, v->xl, a->socket, &nodes_allowed)) ||
        !(vm = xf_cli_vm_json(CMD, v, false, nodes_allowed, &r)))
        return r;
    json_object_set_new(vm, "name", json_string(v->xl->name));
    res = err = NULL;
    r = xf_cli_rpc_try(a->socket, "xenfit.reserve_vm", json_pack("[sso]", SESSION, a->session, vm),
                       &res, &err);
    if (r < 0)
        return xf_cli_failure(CMD, "xenfitd at '%s': %s; nothing was reserved", a->socket,
                              strerror(-r));
    if (r == 1) {
        const char *reason = json_string_value(json_object_get(json_array_get(err, 1), "reason"));
        char *text = reason ? NULL : xfd_client_error_text(err);
        xf_cli_failure(CMD, "%s: %s; xl was not run", v->xl->name, reason ? reason : text);
        free(text);
        json_decref(err);
        return XF_EXIT_FAILURE;
    }
    d->daemon = true;
    snprintf(d->id, sizeof(d->id), "%s", json_string_value(json_object_get(res, "reservation_id")));
    if (strcmp(json_string_value(json_object_get(json_object_get(res, "placement"), "outcome")),
               "nodes") == 0)
        json_array_foreach(json_object_get(res, "nodes"), i, n) d->nodes |=
            UINT64_C(1) << json_integer_value(n);
    {
        char *s = json_dumps(json_object_get(res, "node_mib"), JSON_COMPACT);
        snprintf(d->node_mib, sizeof(d->node_mib), "%s", s ? s : "{}");
        free(s);
    }
    json_decref(res);
    return 0;
}

/* Decides against the host without a daemon (nothing to reserve). */
static int decide_local(const struct xl_args *a, const struct xf_cli_vm *v, struct decision *d)
{
    const struct xf_hv_ops *const *built = xf_hv_backends();
    struct xf_admit_params params = {.policy = XF_POLICY_XENFIT,
                                     .numa_policy = XF_NUMA_POLICY_BEST_EFFORT};
    struct xf_admit_request req = {.vm = v->vm};
    struct xf_admission adm;
    struct xf_host_free f;
    struct xf_hv *hv = NULL;
    uint32_t nr_nodes = 0;
    size_t at = 0;
    int r;

    params.coeffs = xf_admit_default_coeffs(params.policy);
    if ((r = xf_cli_open_backend(CMD, a->backend ? a->backend : built[0]->name, a->host, &hv)))
        return r;
    r = xf_cli_admit_local(CMD, hv, &params, &req, v->xl, &adm, &f, &nr_nodes);
    xf_hv_free(hv);
    if (r)
        return r;
    if (!adm.admitted)
        return xf_cli_failure(CMD, "%s: %s; xl was not run", v->xl->name, adm.reason);
    d->nodes = adm.placed ? adm.plan.node_mask : 0;
    for (uint64_t m = d->nodes; m && at < sizeof(d->node_mib); m &= m - 1) {
        int n = __builtin_ctzll(m);
        at += (size_t)snprintf(d->node_mib + at, sizeof(d->node_mib) - at, "%s\"%d\":%llu",
                               at ? "," : "{", n,
                               (unsigned long long)adm.plan.memory_mib_per_node[n]);
    }
    snprintf(d->node_mib + at, sizeof(d->node_mib) - at, "%s", at ? "}" : "{}");
    return 0;
}

/* The config with the plan appended, in a new file (path in ret). */
static int derived_config(const struct xl_args *a, const struct decision *d, char *ret, size_t len)
{
    char *text = NULL, soft[256];
    size_t n = 0;
    FILE *f;
    int fd, r;

    if ((r = xf_cli_read_file(CMD, a->cfg, &text, &n)))
        return r;
    snprintf(ret, len, "%s/xenfit-xl-create-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    fd = mkstemp(ret);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        free(text);
        return xf_cli_failure(CMD, "cannot write a copy of '%s': %s", a->cfg, strerror(e));
    }
    fwrite(text, 1, n, f);
    if (n && text[n - 1] != '\n')
        fputc('\n', f);
    free(text);
    fprintf(f, "# Added by xenfit xl-create%s%s: NUMA plan %s\n", d->daemon ? ", reservation " : "",
            d->daemon ? d->id : "", d->node_mib);
    if (d->nodes) {
        soft_affinity(d->nodes, soft, sizeof(soft));
        fprintf(f, "cpus_soft = \"%s\"\n", soft);
    }
    if (fclose(f) != 0) {
        unlink(ret);
        return xf_cli_failure(CMD, "cannot write a copy of '%s'", a->cfg);
    }
    return 0;
}

/* Tells xenfitd how it went; on failure, releases the reservation. */
static void settle(const struct xl_args *a, const struct decision *d, const char *name, bool built,
                   int err, const char *message, long domid)
{
    json_t *rep, *res = NULL, *error = NULL;

    if (!d->daemon)
        return;
    rep = json_pack("{ss ss ss}", "outcome", built ? "built" : "failed", "reservation_id", d->id,
                    "name", name);
    if (message)
        json_object_set_new(rep, "message", json_string(message));
    if (err)
        json_object_set_new(rep, "errno", json_integer(err));
    if (domid >= 0)
        json_object_set_new(rep, "domid", json_integer(domid));
    if (built && domid >= 0 &&
        xf_cli_rpc_try(a->socket, "transfer_reservation_to_domain",
                       json_pack("[sssi]", SESSION, a->session, d->id, (int)domid), &res,
                       &error) != 0)
        fprintf(stderr,
                "xenfit: %s: warning: the reservation %s could not be tied to domain "
                "%ld; it expires with xenfitd's TTL\n",
                CMD, d->id, domid);
    json_decref(res);
    json_decref(error);
    res = error = NULL;
    if (!built && xf_cli_rpc_try(a->socket, "delete_reservation",
                                 json_pack("[sss]", SESSION, a->session, d->id), &res, &error) != 0)
        fprintf(stderr,
                "xenfit: %s: warning: the reservation %s could not be released; it "
                "expires with xenfitd's TTL\n",
                CMD, d->id);
    json_decref(res);
    json_decref(error);
    res = error = NULL;
    (void)xf_cli_rpc_try(a->socket, "xenfit.report_build",
                         json_pack("[sso]", SESSION, a->session, rep), &res, &error);
    json_decref(res);
    json_decref(error);
}

/* Runs xl create on the derived config, then finds the domain. */
static int create(const struct xl_args *a, const struct decision *d, const char *name,
                  const char *derived)
{
    const char **args = calloc((size_t)a->xl_argc + 2, sizeof(*args));
    const char *domid_args[] = {"domid", name};
    char out[64], msg[200];
    long domid = -1;
    int st;

    if (!args)
        return xf_cli_failure(CMD, "out of memory");
    args[0] = "create";
    args[1] = derived;
    for (int i = 0; i < a->xl_argc; i++)
        args[2 + i] = a->xl_argv[i];
    st = run_xl(a->xl, args, (size_t)a->xl_argc + 2, NULL, 0);
    free(args);
    if (st != 0) {
        if (st == 127 || st < 0)
            snprintf(msg, sizeof(msg), "'%s' could not be run", a->xl);
        else
            snprintf(msg, sizeof(msg), "xl create exited %d", st);
        settle(a, d, name, false, st == 127 ? ENOENT : st < 0 ? -st : 0, msg, -1);
        return xf_cli_failure(CMD, "%s: %s%s", name, msg,
                              d->daemon ? "; its reservation was released" : "");
    }
    st = run_xl(a->xl, domid_args, 2, out, sizeof(out));
    if (st == 0) {
        char *end;
        domid = strtol(out, &end, 10);
        if (end == out || (*end && *end != '\n') || domid <= 0 || domid >= 0x7FF0)
            domid = -1;
    }
    if (domid < 0) {
        snprintf(msg, sizeof(msg), "xl create succeeded but `xl domid %s` did not name a domain",
                 name);
        settle(a, d, name, false, ESRCH, msg, -1);
        return xf_cli_failure(CMD, "%s%s", msg, d->daemon ? "; its reservation was released" : "");
    }
    settle(a, d, name, true, 0, NULL, domid);
    printf("%s: domain %ld created, NUMA plan %s%s%s\n", name, domid, d->node_mib,
           d->daemon ? ", reservation " : " (no xenfitd: decided locally)", d->daemon ? d->id : "");
    return XF_EXIT_OK;
}

int xf_cmd_xl_create(int argc, char **argv)
{
    struct xl_args a;
    struct xf_cli_vm v;
    struct decision d = {0};
    char derived[4096];
    int r;

    if ((r = parse_args(argc, argv, &a)))
        return r;
    xf_cli_vm_init(&v);
    v.xl_path = a.cfg;
    if ((r = xf_cli_vm_finish(CMD, &v)))
        return r;
    if (!v.xl->name[0])
        return xf_cli_usage_error(CMD,
                                  "%s: no name= (xl needs one, and xl-create finds the "
                                  "domain by it)",
                                  a.cfg);
    if (!xl_found(a.xl))
        return xf_cli_failure(CMD, "xl not found: '%s'%s; nothing was reserved", a.xl,
                              strchr(a.xl, '/') ? " is not executable" : " is not on PATH");
    check_claim_mode(a.xl_conf);
    r = a.local ? NO_DAEMON : reserve(&a, &v, &d);
    if (r == NO_DAEMON)
        r = decide_local(&a, &v, &d);
    if (r)
        return r;
    if ((r = derived_config(&a, &d, derived, sizeof(derived)))) {
        settle(&a, &d, v.xl->name, false, EIO, "the config copy could not be written", -1);
        return r;
    }
    r = create(&a, &d, v.xl->name, derived);
    unlink(derived);
    return r;
}
