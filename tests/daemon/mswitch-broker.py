#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-only
"""A minimal message-switch for xenfitd's tests, written from the protocol's
documented messages (xen-api e2ee48d6883e: ocaml/message-switch/core/
protocol.ml, In.of_request / Out.to_response; the semantics of
switch/mswitch.ml, process_request, and switch/q.ml, transfer and send).
Not the real switch: no persistence, no redo log, no tracing, no web UI.

HTTP/1.1 (keep-alive) on a Unix socket, one connection one session:
  GET  /login/TOKEN                       -> 200 ""          (names the session)
  GET  /persistent/NAME, /transient/NAME  -> 200 NAME        (transient: owned by
                                             the session, gone when its last
                                             connection closes)
  GET  /destroy/NAME                      -> 200 ""
  POST /request/NAME/REPLY_TO   body      -> 200 [[NAME, ID]] or [] (no queue)
  POST /response/NAME/FROM_Q/FROM_N body  -> 200 the same
  POST /transfer {"from": "N"?, "timeout": S, "queues": [...]}
       -> 200 {"messages": [[[Q, ID], {"payload": P, "kind": K}]...], "next": "N'"}
          (waits up to S s for a message above N; K is ["Request", REPLY_TO]
          or ["Response", [Q, ID]])
  GET  /ack/NAME/ID                       -> 200 ""          (removes the message)
  GET  /list/PREFIX                       -> 200 [names]
  GET  /                                  -> 200 a diagnostics object (simplified)
Without a login, everything but login and / is 404 "Please log in.";
anything else is 404.

For fault tests only (not in the protocol):
  POST /x-inject/NAME  body: a JSON message object {"payload", "kind"} put on
       the queue as is (a kind the protocol could not produce).

Usage: mswitch-broker.py SOCKET   (serves until SIGTERM)
"""
import json
import os
import signal
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

LOCK = threading.Condition()
QUEUES = {}  # name -> {"owner": session or None, "next": int, "msgs": {id: message}}
CONNS = {}  # session -> number of open connections


def queue_add(name, owner=None):
    if name not in QUEUES:
        QUEUES[name] = {"owner": owner, "next": 0, "msgs": {}}


def queue_send(name, message):
    """switch/q.ml, send: None when there is no such queue."""
    q = QUEUES.get(name)
    if q is None:
        return None
    i = q["next"]
    q["next"] += 1
    q["msgs"][i] = message
    LOCK.notify_all()
    return [name, i]


def transfer(frm, names):
    """switch/q.ml, transfer: the messages above `frm` on each queue."""
    out = []
    for n in names:
        q = QUEUES.get(n)
        if q is None:
            continue
        for i in sorted(q["msgs"]):
            if i > frm:
                out.append([[n, i], q["msgs"][i]])
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    session = None

    def log_message(self, fmt, *args):  # quiet; the test prints what matters
        if os.environ.get("MSWITCH_BROKER_DEBUG"):
            sys.stderr.write("broker: " + (fmt % args) + "\n")

    def reply(self, status, body):
        # A payload's bytes go out as they came, as OCaml's Jsonrpc writes
        # a string's bytes (json.dumps is called with ensure_ascii=False).
        data = body.encode("utf-8", "surrogateescape")
        self.send_response(status)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("content-length", "0"))
        return self.rfile.read(n).decode("utf-8", "surrogateescape") if n else ""

    def finish(self):
        super().finish()
        with LOCK:
            s = self.session
            if s is not None:
                CONNS[s] -= 1
                if CONNS[s] == 0:  # mswitch.ml, conn_closed: its transient queues go
                    for n in [n for n, q in QUEUES.items() if q["owner"] == s]:
                        del QUEUES[n]

    def do_GET(self):
        self.dispatch("GET", self.body())

    def do_POST(self):
        self.dispatch("POST", self.body())

    def dispatch(self, meth, body):
        parts = self.path.split("/")
        dec = urllib.parse.unquote
        with LOCK:
            if meth == "GET" and len(parts) == 3 and parts[1] == "login":
                if self.session is not None:
                    CONNS[self.session] -= 1
                self.session = dec(parts[2])
                CONNS[self.session] = CONNS.get(self.session, 0) + 1
                return self.reply(200, "")
            if meth == "GET" and self.path == "/":
                return self.reply(200, json.dumps({"queues": {
                    n: sorted(q["msgs"]) for n, q in QUEUES.items()}}))
            if self.session is None:
                return self.reply(404, "Please log in.")
            if meth == "GET" and len(parts) == 3 and parts[1] in ("persistent", "transient"):
                name = dec(parts[2])
                queue_add(name, self.session if parts[1] == "transient" else None)
                return self.reply(200, name)
            if meth == "GET" and len(parts) == 3 and parts[1] == "destroy":
                QUEUES.pop(dec(parts[2]), None)
                return self.reply(200, "")
            if meth == "GET" and len(parts) == 3 and parts[1] == "list":
                p = dec(parts[2])
                return self.reply(200, json.dumps([n for n in QUEUES if n.startswith(p)]))
            if meth == "GET" and len(parts) == 4 and parts[1] == "ack":
                q = QUEUES.get(dec(parts[2]))
                if q is not None:
                    q["msgs"].pop(int(parts[3]), None)
                return self.reply(200, "")
            if meth == "POST" and len(parts) == 4 and parts[1] == "request":
                mid = queue_send(dec(parts[2]), {"payload": body,
                                                 "kind": ["Request", dec(parts[3])]})
                return self.reply(200, json.dumps([mid] if mid else []))
            if meth == "POST" and len(parts) == 5 and parts[1] == "response":
                mid = queue_send(dec(parts[2]), {
                    "payload": body, "kind": ["Response", [dec(parts[3]), int(parts[4])]]})
                return self.reply(200, json.dumps([mid] if mid else []))
            if meth == "POST" and len(parts) == 3 and parts[1] == "x-inject":
                mid = queue_send(dec(parts[2]), json.loads(body))
                return self.reply(200, json.dumps([mid] if mid else []))
            if meth == "POST" and self.path == "/transfer":
                t = json.loads(body)
                frm = int(t["from"]) if "from" in t else -1
                deadline = time.monotonic() + float(t["timeout"])
                while True:
                    msgs = transfer(frm, t["queues"])
                    left = deadline - time.monotonic()
                    if msgs or left <= 0:
                        break
                    LOCK.wait(left)
                nxt = max([m[0][1] for m in msgs], default=frm)
                return self.reply(200, json.dumps({"messages": msgs, "next": str(nxt)},
                                                    ensure_ascii=False))
        return self.reply(404, "")


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up before its answer (a test stopping xenfitd
        # mid-request) is not the broker's error.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    path = sys.argv[1]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = Server(path, Handler)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    srv.serve_forever()


if __name__ == "__main__":
    main()
