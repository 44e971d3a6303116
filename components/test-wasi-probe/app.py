"""A test guest: tries what a WASI guest must not be able to do, and reports each
outcome as a tag `<probe>=<outcome>` (`denied:<error>` when refused, else what it
got) with the error text in a rule. Modules are imported here, at build time:
componentize-py snapshots the interpreter after importing, and the component has no
file system to import from afterwards."""

import os
import sys
import time

import wit_world
from wit_world.imports import config, types

try:
    import socket
except ImportError as e:  # a Python built without sockets obtains nothing either
    socket = None
    SOCKET_IMPORT_ERROR = e


def attempt(probe, action):
    """Runs `action`; its result (a short string) or the refusal becomes the outcome."""
    try:
        return probe, action(), ""
    except BaseException as e:  # noqa: BLE001 - every refusal is an outcome
        return probe, f"denied:{type(e).__name__.lower()}", str(e)[:200]


def list_root():
    return f"listed:{len(os.listdir('/'))}"


def list_cwd():
    return f"listed:{len(os.listdir('.'))}"


def read_passwd():
    with open("/etc/passwd", "rb") as f:
        return f"read:{len(f.read())}"


def write_tmp():
    with open("/tmp/wasi-probe", "wb") as f:
        f.write(b"x")
    return "written"


def environment():
    # os.environ is what the interpreter saw when it started; getenv asks again.
    names = sorted(os.environ)
    home = os.getenv("HOME") or os.getenv("PATH")
    return f"vars:{len(names)}" + (":home-or-path" if home else "")


def connect():
    if socket is None:
        raise SOCKET_IMPORT_ERROR
    port = int(config.get("port") or "9")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(1.0)
        s.connect(("127.0.0.1", port))
        return "connected"
    finally:
        s.close()


def resolve():
    if socket is None:
        raise SOCKET_IMPORT_ERROR
    return f"resolved:{len(socket.getaddrinfo('localhost', 80))}"


class WitWorld(wit_world.WitWorld):
    def qualify(self, view: types.MessageView) -> types.Verdict:
        results = [
            attempt("fs-root", list_root),
            attempt("fs-cwd", list_cwd),
            attempt("fs-passwd", read_passwd),
            attempt("fs-write", write_tmp),
            attempt("env", environment),
            attempt("socket", connect),
            attempt("dns", resolve),
        ]
        # Information, not a breach: WASI clocks are linked (see docs/qualifiers.md).
        results.append(("wall-clock", "yes" if time.time() > 1e9 else "no", ""))
        print("wasi-probe: " + " ".join(f"{p}={o}" for p, o, _ in results))
        print("wasi-probe: stderr works too", file=sys.stderr)
        return types.Verdict(
            pi=None,
            importance_level=None,
            is_spam=None,
            spam_score=None,
            add_tags=[f"{p}={o}" for p, o, _ in results],
            rules=[types.RuleHit(f"PROBE_{p.upper().replace('-', '_')}", 0.0, f"{o} {d}".strip()) for p, o, d in results],
        )
