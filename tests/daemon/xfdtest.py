# SPDX-License-Identifier: LGPL-2.1-only
"""Helpers of xenfitd's Python tests (test-daemon-mswitch.py,
test-daemon-dom0-policy.py): start the real xenfitd on the simulated test
host (tests/data/hosts/daemon-2node.json, the values of harness.h) and wait
for its READY=1 as systemd would; call it over its JSON socket; talk to the
test broker (mswitch-broker.py) as xenopsd's Memory_client would."""
import atexit
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse

FAILED = []
CHILDREN = []  # killed at exit: a failed check must not leave them running


@atexit.register
def _reap():
    for p in CHILDREN:
        if p.poll() is None:
            p.kill()
            p.wait()


def check(name, got, want):
    if got == want:
        print(f"ok   {name}")
    else:
        print(f"FAIL {name}: got {got!r}, want {want!r}")
        FAILED.append(name)


def check_true(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"))
    if not cond:
        FAILED.append(name)


def finish():
    if FAILED:
        print(f"{len(FAILED)} check(s) failed: {', '.join(FAILED)}")
        sys.exit(1)
    print("all checks passed")


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.upath = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.upath)


def http_op(conn, method, path, body=None):
    conn.request(method, path, body=body, headers={"content-length": str(len(body or b""))})
    r = conn.getresponse()
    return r.status, r.read().decode()


class Daemon:
    """xenfitd with a temporary state and socket."""

    def __init__(self, xenfitd, data, tmp, extra=(), prefix=()):
        self.dir = tmp
        self.sock = os.path.join(tmp, "s")
        self.log = os.path.join(tmp, "log")
        notify = os.path.join(tmp, "notify")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(notify)
        ns.settimeout(10)
        env = dict(os.environ, NOTIFY_SOCKET=notify)
        self.proc = subprocess.Popen(
            [*prefix, xenfitd, "--host", os.path.join(data, "hosts/daemon-2node.json"),
             "--state-dir", os.path.join(tmp, "state"), "--socket", self.sock, *extra],
            stderr=open(self.log, "wb"), env=env)
        CHILDREN.append(self.proc)
        try:
            while ns.recv(256) != b"READY=1":
                pass
        except socket.timeout:
            self.proc.kill()
            sys.stderr.write(open(self.log).read())
            raise SystemExit("xenfitd did not get ready")
        finally:
            ns.close()

    def call(self, method, params):
        c = UnixHTTP(self.sock)
        st, body = http_op(c, "POST", "/", json.dumps(
            {"method": method, "params": params, "id": 1}).encode())
        c.close()
        assert st == 200, (st, body)
        return json.loads(body)

    def log_text(self):
        return open(self.log, errors="replace").read()

    def wait_log(self, text, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in self.log_text():
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        """SIGTERM; returns (exit status, seconds it took)."""
        t0 = time.monotonic()
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, time.monotonic() - t0


def run_xenfitd(xenfitd, args):
    """Runs xenfitd to completion (for refused options): (status, stderr)."""
    p = subprocess.run([xenfitd, *args], capture_output=True, timeout=20)
    return p.returncode, p.stderr.decode(errors="replace")


class Broker:
    """mswitch-broker.py as a child process (so the test can kill it)."""

    def __init__(self, script, path):
        self.script, self.path = script, path
        self.start()

    def start(self):
        self.proc = subprocess.Popen([sys.executable, self.script, self.path])
        CHILDREN.append(self.proc)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.path)
                s.close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the broker did not start")

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def seg(name):
    """A queue name as one URL path segment (Uri.make encodes it so)."""
    return urllib.parse.quote(name, safe=":")


class SwitchClient:
    """xenopsd's side of the switch (xen-api e2ee48d6883e,
    ocaml/message-switch/unix/protocol_unix.ml, Client.connect and
    Client.rpc): two logged-in connections, a transient reply queue named by
    the token; per call CreatePersistent of the destination, Send a Request
    naming the reply queue, then transfer the reply queue until the Response
    to that message id comes, and ack it."""

    def __init__(self, path, token="xenopsd-test:1"):
        self.path, self.token = path, token
        self.req = UnixHTTP(path, timeout=40)
        self.ev = UnixHTTP(path, timeout=40)
        for c in (self.req, self.ev):
            check_true("switch login", http_op(c, "GET", "/login/" + seg(token)) == (200, ""))
        st, self.reply_q = http_op(self.req, "GET", "/transient/" + seg(token))
        assert st == 200
        self.frm = None

    def send(self, queue, payload):
        """Posts a request; returns its message id [queue, n]."""
        st, _ = http_op(self.req, "GET", "/persistent/" + seg(queue))
        assert st == 200
        st, body = http_op(self.req, "POST", f"/request/{seg(queue)}/{seg(self.reply_q)}",
                           payload if isinstance(payload, bytes) else payload.encode())
        assert st == 200, (st, body)
        mid = json.loads(body)
        assert len(mid) == 1, body
        return mid[0]

    def wait_reply(self, mid, timeout=20):
        """The payload of the Response to mid (a string), acked."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            t = {"timeout": min(5.0, max(0.1, end - time.monotonic())), "queues": [self.reply_q]}
            if self.frm is not None:
                t["from"] = self.frm
            st, body = http_op(self.ev, "POST", "/transfer", json.dumps(t).encode())
            assert st == 200, (st, body)
            out = json.loads(body)
            self.frm = out["next"]
            for (i, m) in out["messages"]:
                http_op(self.ev, "GET", f"/ack/{seg(i[0])}/{i[1]}")
                if m["kind"] == ["Response", mid]:
                    return m["payload"]
        raise AssertionError(f"no reply to {mid} within {timeout} s")

    def rpc(self, queue, method, params, rid=1):
        """A JSON-RPC call through the switch, as Jsonrpc.string_of_call
        writes it; returns the decoded response object."""
        mid = self.send(queue, json.dumps({"method": method, "params": params, "id": rid}))
        return json.loads(self.wait_reply(mid))

    def close(self):
        self.req.close()
        self.ev.close()
