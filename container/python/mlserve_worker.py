"""mlserve's pyfunc worker: serves one MLflow model version to the model host.

The host starts one worker per version and talks to it over stdin/stdout with frames: a 4-byte
big-endian length, then that many bytes of UTF-8 JSON. stderr is free-form log text.

Environment:
  MLSERVE_MODEL_DIR      local directory holding the version's MLflow model (MLmodel and its files)
  MLSERVE_LOAD_SPEC      JSON {"flavors", "signature", "mlflow_version"} as the registry recorded them
                         (absent: read from MLmodel)
  MLSERVE_WORKER_LOADER  auto (MLflow when importable, else the sklearn flavor) | sklearn

After loading, the worker writes {"event": "ready", "loader", "pid"}, or {"event": "failed",
"message"} and exits 1. Each request {"id", "op": "predict", "input", "params"} gets one reply, in
order: {"id", "ok": true, "predictions"} or {"id", "ok": false, "error_code", "message"}.

Without MLflow, the sklearn flavor's pickle is loaded and the signature is enforced here the way
MLflow 2.17's scoring server does it (mlflow.pyfunc.scoring_server, mlflow.models.utils,
mlflow.utils.proto_json_utils), with the same error codes and messages.

This file is the main loop; beside it: mlserve_frames (framing, JSON-serializable predictions),
mlserve_schema (signatures, request data to model input), mlserve_enforce (signature
enforcement), mlserve_loaders (loading a version), mlserve_errors (error codes, the log).
"""

from __future__ import annotations

import os
import sys
import traceback

from mlserve_errors import BAD_REQUEST, INTERNAL_ERROR, LoadError, WorkerError, log
from mlserve_frames import (
    FrameDecodeError,
    decode_frame,
    jsonable,
    read_frame,
    take_protocol_streams,
    write_frame,
    write_reply,
)
from mlserve_loaders import load


# ---------------------------------------------------------------------------------------------
# Main loop


def handle(predictor, request):
    request_id = request.get("id") if isinstance(request, dict) else None
    try:
        if not isinstance(request, dict) or request.get("op") != "predict":
            op = request.get("op") if isinstance(request, dict) else None
            raise WorkerError(INTERNAL_ERROR, f"unknown worker operation {op!r}")
        scoring_input = request.get("input")
        if not isinstance(scoring_input, dict):
            raise WorkerError(INTERNAL_ERROR, "the request has no input")
        params = request.get("params")
        predictions = predictor.predict(scoring_input, params if isinstance(params, dict) else None)
        try:
            return {"id": request_id, "ok": True, "predictions": jsonable(predictions)}
        except Exception as e:
            raise WorkerError(INTERNAL_ERROR, f"Failed to serialize the model's predictions: {e}")
    except WorkerError as e:
        reply = {"id": request_id, "ok": False, "error_code": e.error_code, "message": e.message}
        if e.stack_trace:
            reply["stack_trace"] = e.stack_trace
        return reply
    except Exception as e:
        log(f"request {request_id} failed:\n{traceback.format_exc().rstrip()}")
        return {"id": request_id, "ok": False, "error_code": INTERNAL_ERROR, "message": f"{type(e).__name__}: {e}"}


def main():
    frames_in, frames_out = take_protocol_streams()
    model_dir = os.environ.get("MLSERVE_MODEL_DIR", "")
    loader = os.environ.get("MLSERVE_WORKER_LOADER", "auto") or "auto"
    if loader not in ("auto", "sklearn"):
        write_frame(frames_out, {"event": "failed", "message": f"unknown MLSERVE_WORKER_LOADER {loader!r}"})
        return 1
    try:
        predictor = load(model_dir, loader)
    except LoadError as e:
        write_frame(frames_out, {"event": "failed", "message": str(e)})
        return 1
    except Exception as e:
        log(f"loading failed:\n{traceback.format_exc().rstrip()}")
        write_frame(frames_out, {"event": "failed", "message": f"loading the model failed: {type(e).__name__}: {e}"})
        return 1
    log(f"loaded {model_dir} with the {predictor.loader} loader")
    write_frame(frames_out, {"event": "ready", "loader": predictor.loader, "pid": os.getpid()})
    while True:
        try:
            body = read_frame(frames_in)
        except EOFError as e:
            log(str(e))
            return 0
        if body is None:
            return 0
        try:
            request = decode_frame(body)
        except FrameDecodeError as e:
            # The host bounds what it sends; a frame that still cannot be read fails that request, not the worker.
            log(f"unreadable request frame: {e.message}")
            write_reply(
                frames_out,
                {"id": e.request_id, "ok": False, "error_code": BAD_REQUEST, "message": f"Invalid input: {e.message}"},
            )
            continue
        del body
        write_reply(frames_out, handle(predictor, request))


if __name__ == "__main__":
    sys.exit(main())
