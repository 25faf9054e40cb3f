#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-only
"""get_domain_zero_policy from --dom0-policy (and the config key), with
squeezed's encoding: ["Fixed_size", bytes] or ["Auto_balloon", [min, max]]
(xen-api e2ee48d6883e, ocaml/xapi-idl/memory/memory_interface.ml, type
domain_zero_policy; squeezed's answer in ocaml/squeezed/src/memory_server.ml,
get_domain_zero_policy; its defaults in ocaml/squeezed/lib/squeeze.ml:
manage_domain_zero false, domain_zero_dynamic_min 1 GiB, dynamic_max None =
dom0's memory). The test host's dom0 has 1024 MiB = 1073741824 bytes.
Refused values exit 2 naming the value, and start nothing.

Usage: test-daemon-dom0-policy.py XENFITD TEST_DATA
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xfdtest import Daemon, check, check_true, finish, run_xenfitd  # noqa: E402

GIB = 1 << 30


def policy(xenfitd, data, extra):
    tmp = tempfile.mkdtemp(prefix="xfd-dom0-")
    d = Daemon(xenfitd, data, tmp, extra)
    r = d.call("get_domain_zero_policy", ["dbg"])
    rc, _ = d.stop()
    check(f"{' '.join(extra) or 'default'}: exit 0", rc, 0)
    shutil.rmtree(tmp)
    return r


def main():
    xenfitd, data = sys.argv[1:3]
    check("default: squeezed's (Fixed_size of dom0's memory)",
          policy(xenfitd, data, []), {"result": ["Fixed_size", GIB], "error": None, "id": 1})
    check("fixed", policy(xenfitd, data, ["--dom0-policy", "fixed"])["result"],
          ["Fixed_size", GIB])
    # squeezed's manage-domain-zero=true with its defaults: 1 GiB to dom0's memory.
    check("auto", policy(xenfitd, data, ["--dom0-policy", "auto"])["result"],
          ["Auto_balloon", [GIB, GIB]])
    check("auto:MIN-MAX in bytes",
          policy(xenfitd, data, ["--dom0-policy=auto:536870912-2147483648"])["result"],
          ["Auto_balloon", [536870912, 2147483648]])
    check("auto:MIN-MAX with units",
          policy(xenfitd, data, ["--dom0-policy", "auto:768MiB-3GiB"])["result"],
          ["Auto_balloon", [768 << 20, 3 * GIB]])
    check("auto:MIN-auto: MAX is dom0's memory",
          policy(xenfitd, data, ["--dom0-policy", "auto:512M-auto"])["result"],
          ["Auto_balloon", [512 << 20, GIB]])
    # The config key, and a flag overriding it.
    tmp = tempfile.mkdtemp(prefix="xfd-dom0-conf-")
    conf = os.path.join(tmp, "xenfitd.conf")
    with open(conf, "w") as f:
        f.write("dom0-policy = auto:1GiB-2GiB   # as squeezed's manage-domain-zero\n")
    check("config key", policy(xenfitd, data, ["--config", conf])["result"],
          ["Auto_balloon", [GIB, 2 * GIB]])
    check("the flag overrides the file",
          policy(xenfitd, data, ["--config", conf, "--dom0-policy", "fixed"])["result"],
          ["Fixed_size", GIB])

    # Refusals: exit 2, a message naming the value, nothing started.
    host = ["--host", os.path.join(data, "hosts/daemon-2node.json"), "--state-dir",
            os.path.join(tmp, "never"), "--socket", os.path.join(tmp, "never.sock")]
    for value, why in [
            ("balloon", "expected fixed, auto or auto:MIN-MAX"),
            ("auto:", "expected fixed, auto or auto:MIN-MAX"),
            ("auto:1G", "expected fixed, auto or auto:MIN-MAX"),
            ("auto:lots-2G", "MIN 'lots' is not a size"),
            ("auto:-2G", "MIN '' is not a size"),
            ("auto:1G-", "MAX '' is not a size"),
            ("auto:1G-2X", "MAX '2X' is not a size"),
            ("auto:2G-1G", "MAX 1073741824 bytes is below MIN 2147483648 bytes"),
            ("auto:0-0", "MAX 0: dom0 needs memory"),
            ("auto:1.5G-2G", "MIN '1.5G' is not a size"),
    ]:
        rc, err = run_xenfitd(xenfitd, [*host, "--dom0-policy", value])
        check(f"--dom0-policy {value}: exit 2", rc, 2)
        check_true(f"--dom0-policy {value}: names the value and why",
                   f"--dom0-policy '{value}': " in err and why in err, err)
    with open(conf, "w") as f:
        f.write("\n\ndom0-policy=auto:3G-1G\n")
    rc, err = run_xenfitd(xenfitd, [*host, "--config", conf])
    check("config: exit 2", rc, 2)
    check_true("config: file and line, the value and why",
               f"{conf}:3: dom0-policy 'auto:3G-1G': MAX 1073741824 bytes is below MIN "
               "3221225472 bytes" in err, err)
    check_true("nothing started (no state directory)",
               not os.path.exists(os.path.join(tmp, "never")))
    shutil.rmtree(tmp)
    finish()


if __name__ == "__main__":
    main()
