"""Loading a version: the sklearn flavor's pickle with the signature enforced here, or the model
loaded by MLflow itself when it is installed."""

from __future__ import annotations

import inspect
import json
import os
import sys
import traceback

from mlserve_errors import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    UNEXPECTED_MODEL_ERROR,
    LoadError,
    WorkerError,
    log,
)
from mlserve_schema import model_input, parse_schema
from mlserve_enforce import SchemaError, enforce_schema


def resolve_inside(model_dir, relative, what):
    root = os.path.realpath(model_dir)
    path = os.path.realpath(os.path.join(root, relative))
    if path != root and not path.startswith(root + os.sep):
        raise LoadError(f"{what} {relative!r} points outside the model directory")
    return path


def add_code_paths(model_dir, flavors):
    for flavor in ("python_function", "sklearn"):
        code = (flavors.get(flavor) or {}).get("code")
        if isinstance(code, str) and code:
            path = resolve_inside(model_dir, code, "code path")
            if os.path.isdir(path) and path not in sys.path:
                sys.path.insert(0, path)


class SklearnPredictor:
    """The sklearn flavor's pickle, with MLflow 2.17's signature enforcement done here."""

    loader = "sklearn"

    def __init__(self, model_dir, spec):
        flavors = spec.get("flavors") or {}
        conf = flavors.get("sklearn")
        if not isinstance(conf, dict):
            pyfunc = flavors.get("python_function") or {}
            loader_module = pyfunc.get("loader_module", "an unknown loader")
            raise LoadError(
                f"the model has no sklearn flavor (flavors: {', '.join(flavors) or 'none'}) and its python_function "
                f"flavor loads with {loader_module}, which needs MLflow; MLflow is not installed in {sys.executable} "
                "(serve the version with a per-version Python environment that installs its requirements)"
            )
        pickled = conf.get("pickled_model")
        if not isinstance(pickled, str) or not pickled:
            raise LoadError("the sklearn flavor in MLmodel names no pickled_model")
        add_code_paths(model_dir, flavors)
        path = resolve_inside(model_dir, pickled, "pickled_model")
        if not os.path.isfile(path):
            raise LoadError(f"the sklearn flavor's pickled_model {pickled} is not in the model directory")
        fmt = conf.get("serialization_format") or "cloudpickle"
        if fmt not in ("cloudpickle", "pickle"):
            raise LoadError(f"unsupported sklearn serialization_format {fmt!r} (mlserve loads cloudpickle and pickle)")
        try:
            if fmt == "cloudpickle":
                import cloudpickle as unpickler
            else:
                import pickle as unpickler
        except ImportError as e:
            raise LoadError(f"cannot unpickle {pickled}: {e} in {sys.executable}")
        try:
            with open(path, "rb") as f:
                self.model = unpickler.load(f)
        except ModuleNotFoundError as e:
            raise LoadError(
                f"cannot unpickle {pickled} ({fmt}): the model needs the Python module {e.name!r}, which is not "
                f"installed in {sys.executable} (serve the version with a per-version Python environment)"
            )
        except Exception as e:
            raise LoadError(
                f"cannot unpickle {pickled} ({fmt}): {type(e).__name__}: {e} (the file is damaged or was not written "
                f"by {fmt} with compatible library versions)"
            )
        predict_fn = (flavors.get("python_function") or {}).get("predict_fn") or "predict"
        self.predict_fn = getattr(self.model, predict_fn, None)
        if not callable(self.predict_fn):
            raise LoadError(f"the unpickled {type(self.model).__name__} has no {predict_fn}() method")
        signature = spec.get("signature") or {}
        try:
            self.schema = parse_schema(signature.get("inputs"))
        except Exception as e:
            raise LoadError(f"the model signature's inputs cannot be read: {e}")

    def predict(self, scoring_input, params):
        data = model_input(scoring_input, self.schema)
        try:
            enforced = data
            if self.schema is not None:
                try:
                    enforced = enforce_schema(data, self.schema)
                except SchemaError as e:
                    raise WorkerError(
                        INVALID_PARAMETER_VALUE,
                        f"Failed to enforce schema of data '{data}' with schema '{self.schema!r}'. Error: {e}",
                    )
            predictions = self.predict_fn(enforced)
        except WorkerError as e:
            raise WorkerError(e.error_code, f"Failed to predict data '{data}'. \nError: {e.message}")
        except Exception:
            raise model_failure()
        return predictions


def scoring_request(scoring_input):
    """The request body MLflow's scoring server would have parsed into this input."""
    kind = scoring_input.get("kind")
    if kind == "dataframe":
        split = {"data": scoring_input.get("rows", [])}
        if scoring_input.get("columns") is not None:
            split["columns"] = scoring_input["columns"]
        return {"dataframe_split": split}
    return {"inputs": scoring_input.get("data")}


class MlflowPredictor:
    """The model loaded by MLflow itself (`mlflow.pyfunc.load_model`), which enforces its signature."""

    loader = "mlflow"

    def __init__(self, model_dir):
        import mlflow.pyfunc

        self.model = mlflow.pyfunc.load_model(model_dir)
        metadata = getattr(self.model, "metadata", None)
        self.schema = metadata.get_input_schema() if metadata is not None else None
        try:
            from mlflow.pyfunc.scoring_server import infer_and_parse_data

            self.parse = infer_and_parse_data
        except ImportError:
            self.parse = None
        self.takes_params = "params" in inspect.signature(self.model.predict).parameters

    def predict(self, scoring_input, params):
        from mlflow.exceptions import MlflowException

        try:
            if self.parse is not None:
                data = self.parse(scoring_request(scoring_input), self.schema)
            else:
                data = model_input(scoring_input, None)
        except MlflowException as e:
            raise WorkerError(mlflow_code(e), e.message)
        try:
            if self.takes_params:
                return self.model.predict(data, params=params)
            return self.model.predict(data)
        except MlflowException as e:
            raise WorkerError(mlflow_code(e), f"Failed to predict data '{data}'. \nError: {e.message}")
        except Exception:
            raise model_failure()


def model_failure():
    """The error for an exception the model raised while predicting (as MLflow's scoring server answers)."""
    stack_trace = traceback.format_exc()
    log(f"predict failed:\n{stack_trace.rstrip()}")
    return WorkerError(BAD_REQUEST, UNEXPECTED_MODEL_ERROR, stack_trace)


def mlflow_code(exception):
    code = getattr(exception, "error_code", None)
    return code if code in (INVALID_PARAMETER_VALUE, BAD_REQUEST) else INTERNAL_ERROR


def read_load_spec(model_dir):
    text = os.environ.get("MLSERVE_LOAD_SPEC")
    if text:
        try:
            spec = json.loads(text)
        except ValueError as e:
            raise LoadError(f"MLSERVE_LOAD_SPEC is not valid JSON: {e}")
        if not isinstance(spec, dict):
            raise LoadError("MLSERVE_LOAD_SPEC is not a JSON object")
        return spec
    path = os.path.join(model_dir, "MLmodel")
    try:
        import yaml

        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except ImportError:
        raise LoadError(f"MLSERVE_LOAD_SPEC is not set and PyYAML is not installed in {sys.executable} to read MLmodel")
    except OSError as e:
        raise LoadError(f"cannot read {path}: {e.strerror}")
    if not isinstance(doc, dict):
        raise LoadError("MLmodel is not a YAML mapping")
    return {
        "flavors": doc.get("flavors") or {},
        "signature": doc.get("signature") or None,
        "mlflow_version": doc.get("mlflow_version"),
    }


def load(model_dir, loader):
    if not model_dir or not os.path.isdir(model_dir):
        raise LoadError(f"model directory {model_dir!r} does not exist")
    spec = read_load_spec(model_dir)
    if not isinstance(spec.get("flavors"), dict):
        raise LoadError("the load spec has no flavors")
    if loader == "sklearn":
        return SklearnPredictor(model_dir, spec)
    try:
        import mlflow  # noqa: F401
    except ImportError:
        return SklearnPredictor(model_dir, spec)
    except Exception as e:
        log(f"importing mlflow failed ({type(e).__name__}: {e}); loading the sklearn flavor directly")
        return SklearnPredictor(model_dir, spec)
    try:
        return MlflowPredictor(model_dir)
    except Exception as e:
        log(f"mlflow.pyfunc.load_model failed:\n{traceback.format_exc().rstrip()}")
        raise LoadError(f"mlflow.pyfunc.load_model failed: {type(e).__name__}: {e}")
