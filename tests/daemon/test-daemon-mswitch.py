#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-only
"""xenfitd on message-switch (daemon/mswitch.c), against the test broker
(mswitch-broker.py, written from the protocol's messages; NOT the real
OCaml message-switch), with a client that sends as xenopsd's Memory_client
does (xfdtest.SwitchClient).

Checked, with the test host's values (harness.h: 15597568 KiB free for new
VMs, initial free 17112760320 bytes, dom0 1 GiB):
- squeezed's calls through the queue get squeezed's answers, and their
  changes are the same ledger as the JSON socket's (a reservation made
  through the switch shows in xenfit.host_status, and is deleted there);
- a request queued before xenfitd connects is answered once it does;
- malformed messages (a body that is not JSON, one above --max-body, a
  message of a kind the protocol has not) get an error reply or an ack,
  and xenfitd goes on answering;
- the switch killed and started again: xenfitd logs the loss, reconnects
  (logged with the attempts it took) and answers again;
- SIGTERM during a long-poll stops xenfitd at once (exit 0).

Usage: test-daemon-mswitch.py XENFITD BROKER TEST_DATA
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xfdtest import (Broker, Daemon, SwitchClient, UnixHTTP, check, check_true,  # noqa: E402
                     finish, http_op, run_xenfitd)

Q = "org.xen.xapi.memory"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def main():
    xenfitd, broker_py, data = sys.argv[1:4]
    tmp = tempfile.mkdtemp(prefix="xfd-mswitch-")
    sw = os.path.join(tmp, "switch.sock")
    broker = Broker(broker_py, sw)

    # A request queued before xenfitd is there (xenopsd creates the queue
    # itself before sending: Client.rpc, CreatePersistent).
    early = SwitchClient(sw, "xenopsd-early:1")
    early_mid = early.send(Q, json.dumps({"method": "get_host_reserved_memory",
                                          "params": ["dbg"], "id": 41}))

    d = Daemon(xenfitd, data, tmp, ["--message-switch=" + sw, "--max-body", "4096"])
    check("queued before the daemon: answered once it connects",
          json.loads(early.wait_reply(early_mid)),
          {"result": 65536, "error": None, "id": 41})
    early.close()
    check_true("log: connected", d.wait_log(f"message switch {sw}: connected; serving {Q}"))

    c = SwitchClient(sw)
    check("login", c.rpc(Q, "login", ["dbg", "xenopsd"], 2),
          {"result": "xenopsd", "error": None, "id": 2})
    check("get_host_initial_free_memory", c.rpc(Q, "get_host_initial_free_memory", ["dbg"], 3),
          {"result": 17112760320, "error": None, "id": 3})
    check("get_domain_zero_policy (default: fixed, dom0's 1 GiB)",
          c.rpc(Q, "get_domain_zero_policy", ["dbg"], 4)["result"], ["Fixed_size", 1073741824])
    r = c.rpc(Q, "reserve_memory", ["dbg", "xenopsd", 1048576], 5)
    rid = r["result"]
    check_true("reserve_memory: a reservation id", isinstance(rid, str) and UUID.match(rid), r)
    # The same ledger as the socket's: 15597568 - 1048576 KiB left.
    st = d.call("xenfit.host_status", ["dbg"])["result"]
    check("the socket sees the switch's reservation", st["free_for_new_vm_kib"], 14548992)
    check("too much: Cannot_free_this_much_memory (needed, free)",
          c.rpc(Q, "reserve_memory", ["dbg", "xenopsd", 14548993], 6)["error"],
          ["Cannot_free_this_much_memory", [14548993, 14548992]])
    check("transfer_reservation_to_domain",
          c.rpc(Q, "transfer_reservation_to_domain", ["dbg", "xenopsd", rid, 5], 7),
          {"result": None, "error": None, "id": 7})
    check("query_reservation_of_domain", c.rpc(Q, "query_reservation_of_domain",
                                               ["dbg", "xenopsd", 5], 8)["result"], rid)
    check("delete_reservation", c.rpc(Q, "delete_reservation", ["dbg", "xenopsd", rid], 9),
          {"result": None, "error": None, "id": 9})
    check("delete_reservation again: Unknown_reservation",
          c.rpc(Q, "delete_reservation", ["dbg", "xenopsd", rid], 10)["error"],
          ["Unknown_reservation", rid])
    st = d.call("xenfit.host_status", ["dbg"])["result"]
    check("all free again", st["free_for_new_vm_kib"], 15597568)
    diag = c.rpc(Q, "get_diagnostics", ["dbg"], 11)["result"]
    check_true("get_diagnostics names the host and its free memory",
               "daemon-2node" in diag and "15232 MiB free for a new VM" in diag, diag)
    # A reservation through the switch, deleted through the socket.
    rid2 = c.rpc(Q, "reserve_memory", ["dbg", "xapi", 2048], 12)["result"]
    check("deleted through the socket", d.call("delete_reservation", ["dbg", "xapi", rid2]),
          {"result": None, "error": None, "id": 1})

    # A reply queue whose name needs escaping in a URL: '/' must stay inside
    # one path segment of /response/REPLY_QUEUE/... (xenfitd escapes it).
    odd = SwitchClient(sw, "xenopsd/odd name%:7")
    check("a reply queue named with '/', ' ' and '%'",
          odd.rpc(Q, "get_host_reserved_memory", ["dbg"], 17)["result"], 65536)
    odd.close()

    # Malformed messages.
    mid = c.send(Q, "this is not JSON")
    r = json.loads(c.wait_reply(mid))
    check("not JSON: an Internal_error reply, id null",
          (r["result"], r["error"][0], r["id"]), (None, "Internal_error", None))
    mid = c.send(Q, json.dumps({"method": "get_diagnostics", "params": ["x" * 5000], "id": 13}))
    r = json.loads(c.wait_reply(mid))
    check_true("above --max-body: an error naming the limit",
               r["error"][0] == "Internal_error" and "--max-body (4096)" in r["error"][1], r)
    mid = c.send(Q, b'{"method": "login", "params": ["d\xff\xfe", "s"], "id": 14}')
    r = json.loads(c.wait_reply(mid))
    check("bytes that are not UTF-8: still a reply", r["id"], 14)
    ctl = UnixHTTP(sw)
    http_op(ctl, "GET", "/login/test-control")
    st, body = http_op(ctl, "POST", "/x-inject/" + Q,
                       json.dumps({"payload": "{}", "kind": ["Bogus", 1]}).encode())
    bogus = json.loads(body)[0]
    check("an unknown message kind, then a request: answered",
          c.rpc(Q, "get_host_reserved_memory", ["dbg"], 15)["result"], 65536)
    st, body = http_op(ctl, "GET", "/")
    check_true("the unknown kind was acked (gone from the queue)",
               bogus[1] not in json.loads(body)["queues"].get(Q, []), body)
    check_true("log: the unknown kind", "acked unanswered" in d.log_text())
    ctl.close()
    c.close()

    # A round whose commit fails (the database capped as on a full disk,
    # XENFITD_STATE_MAX_PAGES, as daemon-faults does): the switch's client
    # is told why, as a socket's would be, and nothing unacknowledged stays.
    full_dir = tempfile.mkdtemp(prefix="xfd-mswitch-full-")
    os.environ["XENFITD_STATE_MAX_PAGES"] = "8"
    full = Daemon(xenfitd, data, full_dir, ["--message-switch=" + sw,
                                            "--message-switch-queue", Q + ".full"])
    del os.environ["XENFITD_STATE_MAX_PAGES"]
    c = SwitchClient(sw, "xenopsd-full:1")
    acked, r = 0, None
    while acked < 2000:
        r = c.rpc(Q + ".full", "reserve_memory", ["dbg", "s", 1024], 100 + acked)
        if r["error"] is not None:
            break
        acked += 1
    check_true("disk full: some acknowledged first", 0 < acked < 2000, acked)
    check_true("disk full: the error names the cause",
               r["error"][0] == "Internal_error" and
               "could not record this round's changes: database or disk is full (SQLITE_FULL); "
               "nothing was changed" in r["error"][1], r)
    check("disk full: exactly the acknowledged ones are held",
          full.call("xenfit.host_status", ["dbg"])["result"]["free_for_new_vm_kib"],
          15597568 - 1024 * acked)
    c.close()
    rc, _ = full.stop()
    check("disk full: the daemon stops cleanly", rc, 0)
    shutil.rmtree(full_dir)

    # The switch dies and comes back.
    broker.kill()
    check_true("log: connection lost", d.wait_log("the connection failed"))
    time.sleep(1.2)  # a few attempts fail (backoff 0.5 s, 1 s, ...)
    broker.start()
    c = SwitchClient(sw)
    t0 = time.monotonic()
    r = c.rpc(Q, "reserve_memory", ["dbg", "xenopsd", 4096], 16)
    check_true("after the restart: answered (reservation id)",
               isinstance(r["result"], str) and UUID.match(r["result"]), r)
    check_true("answered within the backoff's 5 s bound", time.monotonic() - t0 < 8,
               time.monotonic() - t0)
    check_true("log: reconnected after failed attempts",
               re.search(r"connected after \d+ failed attempts?; serving", d.log_text()),
               d.log_text()[-2000:])
    st = d.call("xenfit.host_status", ["dbg"])["result"]
    check("the ledger kept it", st["free_for_new_vm_kib"], 15597568 - 4096)
    c.close()

    # SIGTERM while the thread is in a long poll (30 s).
    time.sleep(0.3)
    rc, took = d.stop()
    check("stopped: exit status 0", rc, 0)
    check_true("stopped at once during a long poll", took < 3, took)
    broker.kill()

    # The unit's sandbox (ProtectSystem=strict) mounts /run read-only:
    # connecting to a Unix socket there still works (the kernel checks write
    # permission on the socket's inode, and a read-only mount does not apply
    # to sockets), so the unit needs no ReadWritePaths for the switch. Shown
    # with the switch's directory bind-mounted read-only in a mount namespace
    # of xenfitd's own (skipped where unshare(2) is not allowed).
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0:
        ro = os.path.join(tmp, "ro-switch")
        os.mkdir(ro)
        rsw = os.path.join(ro, "sock")
        broker = Broker(broker_py, rsw)
        ro_dir = tempfile.mkdtemp(prefix="xfd-mswitch-ro-")
        sh = (f'mount --bind "{ro}" "{ro}" && mount -o remount,bind,ro "{ro}" && '
              f'! touch "{ro}/w" 2>/dev/null && exec "$0" "$@"')
        d = Daemon(xenfitd, data, ro_dir, ["--message-switch=" + rsw],
                   prefix=["unshare", "-m", "sh", "-c", sh])
        c = SwitchClient(rsw, "xenopsd-ro:1")
        check("switch socket on a read-only mount: answered",
              c.rpc(Q, "get_host_reserved_memory", ["dbg"], 18)["result"], 65536)
        c.close()
        rc, _ = d.stop()
        check("read-only mount: exit 0", rc, 0)
        broker.kill()
        shutil.rmtree(ro_dir)
    else:
        print("skip switch socket on a read-only mount (unshare -m not allowed)")

    # Refused settings: exit 2, naming the value.
    base = ["--host", os.path.join(data, "hosts/daemon-2node.json"),
            "--state-dir", os.path.join(tmp, "never"), "--socket", os.path.join(tmp, "never.s")]
    for args, want in [
            (["--message-switch=run/sock"],
             "--message-switch 'run/sock': expected an absolute path to the switch's socket"),
            (["--message-switch", "--message-switch-queue", "org/xen"],
             "--message-switch-queue 'org/xen': expected a queue name of letters"),
            (["--message-switch-queue", ""], "--message-switch-queue '': expected a queue name"),
    ]:
        rc, err = run_xenfitd(xenfitd, base + args)
        check_true(f"{' '.join(args)}: exit 2 naming the value", rc == 2 and want in err,
                   (rc, err))
    shutil.rmtree(tmp)
    finish()


if __name__ == "__main__":
    main()
