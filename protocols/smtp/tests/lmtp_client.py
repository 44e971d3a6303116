#!/usr/bin/env python3
"""Drives Python's smtplib (LMTP or SMTP) against a server, for the caliopen-smtp tests.

Usage: lmtp_client.py HOST PORT SPEC_JSON

SPEC_JSON is {"protocol": "lmtp" | "smtp", "steps": [...]}; each step is an object whose "op"
names an smtplib call:

  {"op": "hello"}                      LHLO (LMTP) or EHLO (SMTP); gives the extensions
  {"op": "sendmail", "from": a, "to": [b, ...], "message": text}
                                       smtplib's one-call API; gives the refused recipients
  {"op": "mail", "from": a}            MAIL FROM
  {"op": "rcpt", "to": b}              RCPT TO
  {"op": "data", "message": text, "replies": n}
                                       DATA, then n replies in all (LMTP: one per accepted
                                       recipient; smtplib itself reads only the first)
  {"op": "docmd", "line": text}        any command line, sent as is
  {"op": "pipeline", "lines": [...], "replies": n}
                                       all lines in one write, then n replies (RFC 2920)
  {"op": "partial_data", "message": text}
                                       DATA, then the message without its final dot
  {"op": "starttls"}                   STARTTLS without certificate verification (the tests
                                       use a self-signed certificate), then LHLO/EHLO again;
                                       gives the extensions offered over TLS
  {"op": "getreply"}                   one more reply
  {"op": "signal"}                     prints {"signal": "ready"} (instead of a step line) and
                                       waits for a line on stdin
  {"op": "quit"}                       QUIT
  {"op": "close"}                      drops the connection without QUIT

Messages are text whose "\n" line ends are sent as CRLF. A step may name a file instead of
giving "message" (for messages larger than a command-line argument): "message_file": path. One JSON line is printed per step,
{"op": ..., "result": ...}, or {"op": ..., "error": [type, detail]} after which the script
stops. Replies are [code, text] pairs. The socket timeout is 120 s.
"""

import json
import smtplib
import ssl
import sys


def reply(pair):
    code, text = pair
    return [code, text.decode("utf-8", "replace") if isinstance(text, bytes) else text]


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def message(step):
    if "message_file" in step:
        with open(step["message_file"], encoding="utf-8") as file:
            return crlf(file.read())
    return crlf(step["message"])


def run_step(client, protocol, step):
    op = step["op"]
    if op == "hello":
        code, text = client.ehlo()
        return {"reply": reply((code, text)), "extensions": sorted(client.esmtp_features)}
    if op == "sendmail":
        refused = client.sendmail(step["from"], step["to"], message(step))
        return {"refused": {k: reply(v) for k, v in refused.items()}}
    if op == "mail":
        return reply(client.mail(step["from"]))
    if op == "rcpt":
        return reply(client.rcpt(step["to"]))
    if op == "data":
        replies = [reply(client.data(message(step)))]
        for _ in range(step.get("replies", 1) - 1):
            replies.append(reply(client.getreply()))
        return replies
    if op == "docmd":
        client.send(step["line"].encode("utf-8") + b"\r\n")
        return reply(client.getreply())
    if op == "pipeline":
        client.send(b"".join(line.encode("utf-8") + b"\r\n" for line in step["lines"]))
        return [reply(client.getreply()) for _ in range(step["replies"])]
    if op == "partial_data":
        client.putcmd("data")
        first = reply(client.getreply())
        client.send(message(step))
        return first
    if op == "starttls":
        code, text = client.starttls(context=ssl._create_unverified_context())
        client.ehlo()
        return {"reply": reply((code, text)), "extensions": sorted(client.esmtp_features)}
    if op == "getreply":
        return reply(client.getreply())
    if op == "signal":
        print(json.dumps({"signal": "ready"}), flush=True)
        sys.stdin.readline()
        return None
    if op == "quit":
        return reply(client.quit())
    if op == "close":
        client.close()
        return None
    raise ValueError(f"unknown op {op!r}")


def main():
    host, port, spec = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    protocol = spec.get("protocol", "lmtp")
    factory = smtplib.LMTP if protocol == "lmtp" else smtplib.SMTP
    try:
        client = factory(host, port, local_hostname="client.test", timeout=120)
    except (smtplib.SMTPException, OSError) as error:
        print(json.dumps({"op": "connect", "error": [type(error).__name__, str(error)]}))
        return
    print(json.dumps({"op": "connect", "result": None}), flush=True)
    for step in spec["steps"]:
        try:
            result = run_step(client, protocol, step)
        except (smtplib.SMTPException, OSError) as error:
            print(json.dumps({"op": step["op"], "error": [type(error).__name__, str(error)]}))
            return
        if step["op"] != "signal":
            print(json.dumps({"op": step["op"], "result": result}), flush=True)


if __name__ == "__main__":
    main()
