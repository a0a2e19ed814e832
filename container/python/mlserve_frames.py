"""The worker's framing: 4-byte big-endian lengths and UTF-8 JSON over stdin/stdout, and
predictions made JSON-serializable."""

from __future__ import annotations

import base64
import datetime
import json
import math
import os
import re
import struct

from mlserve_errors import INTERNAL_ERROR


def take_protocol_streams():
    """Keeps stdin/stdout for frames and points fds 0/1 elsewhere, so prints cannot corrupt them."""
    in_fd = os.dup(0)
    out_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return os.fdopen(in_fd, "rb"), os.fdopen(out_fd, "wb")


def read_exact(stream, size):
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(stream):
    """Next frame's bytes, or None at end of input."""
    header = read_exact(stream, 4)
    if header is None:
        return None
    (length,) = struct.unpack(">I", header)
    body = read_exact(stream, length)
    if body is None:
        raise EOFError(f"input ended inside a frame of {length} bytes")
    return body


# The host writes each request as {"id":<n>,...}: the id can be read even from a frame whose JSON cannot.
FRAME_ID = re.compile(rb'^\{"id":(\d{1,15}),')


def decode_frame(body):
    """A frame's JSON value; raises FrameDecodeError (carrying the request id when readable) if it has none."""
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError) as e:
        match = FRAME_ID.match(body)
        raise FrameDecodeError(int(match.group(1)) if match else None, f"{type(e).__name__}: {e}")


class FrameDecodeError(Exception):
    def __init__(self, request_id, message):
        super().__init__(message)
        self.request_id = request_id
        self.message = message


def encode_frame(message):
    text = json.dumps(message, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (from a request's `\ud800` escape) has no UTF-8 form: escape everything instead.
        body = json.dumps(message, allow_nan=False, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return struct.pack(">I", len(body)) + body


def write_frame(stream, message):
    stream.write(encode_frame(message))
    stream.flush()


def write_reply(stream, reply):
    """Writes a reply; one that cannot be encoded (too deep, not JSON) is answered as an error instead."""
    try:
        frame = encode_frame(reply)
    except (ValueError, TypeError, RecursionError, MemoryError) as e:
        frame = encode_frame(
            {
                "id": reply.get("id"),
                "ok": False,
                "error_code": INTERNAL_ERROR,
                "message": f"Failed to serialize the model's predictions: {type(e).__name__}: {e}",
            }
        )
    stream.write(frame)
    stream.flush()


def jsonable(value):
    """Plain JSON for predictions: numpy/pandas values as lists and scalars, NaN and infinities as null."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        value = value.to_dict(orient="records")
    elif isinstance(value, pd.Series):
        value = pd.DataFrame(value).to_dict(orient="records")
    return _plain(value, np, pd)


def _plain(value, np, pd):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.ndarray):
        return _plain(value.tolist(), np, pd)
    if isinstance(value, np.generic):
        return _plain(value.item(), np, pd)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v, np, pd) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, np, pd) for v in value]
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (pd.Timestamp, datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return jsonable(value)
    raise TypeError(f"predictions hold a value of type {type(value).__name__}, which has no JSON form")
