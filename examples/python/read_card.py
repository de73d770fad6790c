#!/usr/bin/env python3
"""Read an ID card through the cancuoc daemon and print the holder's name and the verdict.

Python 3 standard library only. Usage:

    read_card.py [--socket PATH] [--reader NAME] ACCESS [--timeout SECONDS]
    ACCESS: --can N | --id-number N [--birth YYMMDD --expiry YYMMDD] | --mrz TEXT
          | --document-number N --birth YYMMDD --expiry YYMMDD | --qr TEXT

Prints the name on the first line and the verdict (genuine, not-verified, forged) on
the second, exit status 0. On an error answer: "CODE: message" on stderr, exit status
1; bad options: exit status 2. The access key is never printed.
"""

import argparse
import json
import os
import socket
import sys
import time

DEFAULT_SOCKET = "/run/cancuoc/api.sock"
# The longest answer line accepted; a read with a face image is far below it.
MAX_LINE = 64 * 1024 * 1024


class Failure(Exception):
    """An error to report on stderr."""


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Read an ID card through the cancuoc daemon."
    )
    parser.add_argument("--socket", help="the daemon's socket "
                        "(default: $CANCUOC_SOCKET, else %s)" % DEFAULT_SOCKET)
    parser.add_argument("--reader", help="reader name (default: the daemon picks "
                        "the first reader with a card)")
    parser.add_argument("--can", help="card access number")
    parser.add_argument("--id-number", help="the 12-digit Vietnamese ID number")
    parser.add_argument("--mrz", help="the whole MRZ")
    parser.add_argument("--document-number", help="document number "
                        "(with --birth and --expiry)")
    parser.add_argument("--birth", help="date of birth, YYMMDD")
    parser.add_argument("--expiry", help="date of expiry, YYMMDD")
    parser.add_argument("--qr", help="the text of the QR code on a Vietnamese card")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the answer (default 60)")
    args = parser.parse_args(argv)
    args.access = access_of(args, parser)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def access_of(args, parser):
    """The API's access object from the options (never echoed in messages)."""
    forms = [name for name in ("can", "id_number", "mrz", "document_number", "qr")
             if getattr(args, name) is not None]
    if len(forms) != 1:
        parser.error("give one of --can, --id-number, --mrz, --document-number, --qr")
    dates = {k: getattr(args, k) for k in ("birth", "expiry")
             if getattr(args, k) is not None}
    form = forms[0]
    if form == "document_number":
        if len(dates) != 2:
            parser.error("--document-number needs --birth and --expiry")
        return {"document_number": args.document_number, **dates}
    if form == "id_number":
        if len(dates) == 1:
            parser.error("give both --birth and --expiry with --id-number, or neither")
        return {"id_number": args.id_number, **dates}
    if dates:
        parser.error("--birth and --expiry go with --id-number or --document-number")
    return {form: getattr(args, form)}


def answer_to(sock, request_id, deadline):
    """The answer line carrying request_id, skipping events and other lines."""
    buffer = bytearray()
    scanned = 0  # bytes of buffer known to hold no newline
    while True:
        newline = buffer.find(b"\n", scanned)
        if newline < 0:
            scanned = len(buffer)
            if len(buffer) > MAX_LINE:
                raise Failure("an answer line is longer than %d bytes" % MAX_LINE)
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("no answer within the timeout")
            sock.settimeout(left)
            try:
                chunk = sock.recv(1 << 20)
            except socket.timeout:
                raise Failure("no answer within the timeout") from None
            if not chunk:
                raise Failure("the daemon closed the connection without answering")
            buffer += chunk
            continue
        line = bytes(buffer[:newline])
        del buffer[:newline + 1]
        scanned = 0
        try:
            message = json.loads(line)
        except ValueError:
            raise Failure("the daemon sent a line that is not JSON") from None
        if not isinstance(message, dict) or "event" in message:
            continue  # an unasked event, or nothing for us
        if message.get("id") == request_id:
            return message
        if message.get("id") is None and "error" in message:
            return message  # the daemon could not read our request's id


def main(argv):
    args = parse_args(argv)
    path = args.socket or os.environ.get("CANCUOC_SOCKET") or DEFAULT_SOCKET
    request = {"id": 1, "cmd": "read", "access": args.access}
    if args.reader is not None:
        request["reader"] = args.reader
    deadline = time.monotonic() + args.timeout
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(args.timeout)
            try:
                sock.connect(path)
            except OSError as e:
                raise Failure("cannot connect to %s: %s" % (path, e.strerror or e)) from None
            sock.sendall(json.dumps(request).encode() + b"\n")
            answer = answer_to(sock, 1, deadline)
    except Failure as e:
        print("read_card: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("read_card: %s" % (e.strerror or e), file=sys.stderr)
        return 1
    error = answer.get("error")
    if error is not None or not isinstance(answer.get("result"), dict):
        error = error if isinstance(error, dict) else {}
        print("%s: %s" % (error.get("code", "no-result"), error.get("message", "")),
              file=sys.stderr)
        return 1
    result = answer["result"]
    name = (result.get("vn") or {}).get("full_name") \
        or (result.get("holder") or {}).get("full_name") or ""
    verdict = (result.get("verification") or {}).get("verdict", "")
    sys.stdout.write("%s\n%s\n" % (name, verdict))
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(encoding="utf-8")
    sys.exit(main(sys.argv[1:]))
