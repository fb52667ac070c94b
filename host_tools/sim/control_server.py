"""The simulator's control socket: a Unix socket in its state dir (control.sock) where host tools
(host_tools/sim/control.py: `acutrainer sim press/release/button/power-cut/status`...) send one JSON request
a connection, a line, and get one JSON reply line. What a request does is the launcher's (its handlers)."""

from __future__ import annotations

import json
import os
import selectors
import socket
from typing import Callable


class ControlServer:
    """handlers: command name -> function(request dict) -> reply dict."""

    def __init__(self, sel, path: str, handlers: dict[str, Callable[[dict], dict]]):
        self.path = path
        self.handlers = handlers
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        sel.register(self.sock, selectors.EVENT_READ, self.on_accept)

    def handle(self, req: dict) -> dict:
        cmd = req.get("cmd")
        handler = self.handlers.get(cmd) if isinstance(cmd, str) else None
        if handler is None:
            return {"ok": False, "error": "unknown simulator command %r" % cmd}
        return handler(req)

    def on_accept(self, sock):
        conn, _ = self.sock.accept()
        conn.settimeout(5)
        data = b""
        try:
            while not data.endswith(b"\n"):
                d = conn.recv(65536)
                if not d:
                    break
                data += d
            try:
                reply = self.handle(json.loads(data.decode()))
            except Exception as e:  # one bad request never stops the simulator
                reply = {"ok": False, "error": str(e)}
            conn.sendall(json.dumps(reply).encode() + b"\n")
        except OSError:
            pass
        finally:
            conn.close()
