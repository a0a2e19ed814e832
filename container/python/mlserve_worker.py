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
"""

from __future__ import annotations

import base64
import datetime
import inspect
import json
import math
import os
import re
import struct
import sys
import traceback

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
BAD_REQUEST = "BAD_REQUEST"
INTERNAL_ERROR = "INTERNAL_ERROR"

UNEXPECTED_MODEL_ERROR = (
    "Encountered an unexpected error while evaluating the model. Verify"
    " that the serialized input Dataframe is compatible with the model for"
    " inference."
)


def log(message):
    sys.stderr.write(f"[mlserve-worker {os.getpid()}] {message}\n")
    sys.stderr.flush()


class WorkerError(Exception):
    """A request failure with the error code and message the client receives."""

    def __init__(self, error_code, message, stack_trace=None):
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.stack_trace = stack_trace


class LoadError(Exception):
    """The model cannot be loaded; the message says why in terms a person can act on."""


# ---------------------------------------------------------------------------------------------
# Framing


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


# ---------------------------------------------------------------------------------------------
# Signatures (mlflow.types.schema)

# MLflow DataType name -> (numpy type, pandas type)
DATA_TYPES = {
    "boolean": ("bool", "bool"),
    "integer": ("int32", "int32"),
    "long": ("int64", "int64"),
    "float": ("float32", "float32"),
    "double": ("float64", "float64"),
    "string": ("str", object),
    "binary": ("bytes", object),
    "datetime": ("datetime64[ns]", "datetime64[ns]"),
}


class DataType:
    def __init__(self, name):
        import numpy as np

        self.name = name
        numpy_type, pandas_type = DATA_TYPES[name]
        self.numpy = np.dtype(numpy_type)
        self.pandas = pandas_type if pandas_type is object else np.dtype(pandas_type)

    def __repr__(self):
        return self.name


class ComplexType:
    """Array, Object, Map or Any column types: passed through without conversion."""

    def __init__(self, spec):
        self.spec = spec

    def __repr__(self):
        kind = self.spec.get("type")
        if kind == "array":
            return f"Array({_type_repr(self.spec.get('items', {}))})"
        if kind == "map":
            return f"Map(str -> {_type_repr(self.spec.get('values', {}))})"
        if kind == "object":
            props = ", ".join(
                f"{p.get('name')!r}: {_type_repr(p)}" + ("" if p.get("required", True) else " (optional)")
                for p in self.spec.get("properties", [])
            )
            return f"Object({props})"
        return "Any"


def _type_repr(spec):
    kind = spec.get("type")
    return kind if kind in DATA_TYPES else repr(ComplexType(spec))


class ColSpec:
    def __init__(self, spec):
        kind = spec.get("type")
        self.type = DataType(kind) if kind in DATA_TYPES else ComplexType(spec)
        self.name = spec.get("name")
        self.required = spec.get("required", True)

    def __repr__(self):
        required = "required" if self.required else "optional"
        if self.name is None:
            return f"{self.type!r} ({required})"
        return f"{self.name!r}: {self.type!r} ({required})"


class TensorSpec:
    def __init__(self, spec):
        import numpy as np

        tensor = spec.get("tensor-spec") or {}
        self.type = np.dtype(tensor.get("dtype", "float64"))
        self.shape = tuple(tensor.get("shape", [-1]))
        self.name = spec.get("name")
        self.required = spec.get("required", True)

    def __repr__(self):
        info = f"Tensor({self.type.name!r}, {self.shape!r})"
        return info if self.name is None else f"{self.name!r}: {info}"


class Schema:
    def __init__(self, specs):
        self.inputs = [TensorSpec(s) if s.get("type") == "tensor" else ColSpec(s) for s in specs]

    def __repr__(self):
        return repr(self.inputs)

    def is_tensor_spec(self):
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self):
        return bool(self.inputs) and self.inputs[0].name is not None

    def input_names(self):
        return [s.name for s in self.inputs]

    def required_input_names(self):
        return [s.name for s in self.inputs if s.required]

    def optional_input_names(self):
        return [s.name for s in self.inputs if not s.required]

    def input_dict(self):
        return {s.name: s for s in self.inputs}


def parse_schema(text):
    if not text:
        return None
    specs = json.loads(text) if isinstance(text, str) else text
    if not isinstance(specs, list) or not specs:
        return None
    return Schema(specs)


# ---------------------------------------------------------------------------------------------
# Request data -> model input (mlflow.utils.proto_json_utils, as the scoring server parses)


def failed_type_conversion(col_name, col_type, ex):
    return WorkerError(
        BAD_REQUEST,
        "Invalid input. Data is not compatible with model signature. "
        f"Failed to convert column {col_name} to type '{col_type}'. Error: '{ex!r}'",
    )


def cast_df_types(pdf, schema):
    import numpy as np

    actual_cols = set(pdf.columns)
    if schema.has_input_names():
        dtype_list = [(s.name, s) for s in schema.inputs]
    elif schema.is_tensor_spec() and len(schema.inputs) == 1:
        dtype_list = [(c, schema.inputs[0]) for c in pdf.columns]
    else:
        n = min(len(schema.inputs), len(pdf.columns))
        dtype_list = list(zip(pdf.columns[:n], schema.inputs[:n]))

    dtypes = pdf.dtypes
    unique = pdf.columns.is_unique
    for col_name, spec in dtype_list:
        if col_name not in actual_cols:
            continue
        if isinstance(spec, TensorSpec):
            col_type = spec.type
        elif isinstance(spec.type, DataType):
            col_type = spec.type.pandas
        else:
            continue
        # A column already of its type needs no conversion (astype would return it unchanged).
        is_binary = isinstance(spec, ColSpec) and spec.type.name == "binary"
        if unique and not is_binary and col_type != np.dtype(bytes) and dtypes[col_name] == col_type:
            continue
        try:
            if isinstance(spec, ColSpec) and spec.type.name == "binary":
                pdf[col_name] = pdf[col_name].map(lambda x: base64.decodebytes(bytes(x, "utf8")))
            elif isinstance(spec, TensorSpec) and len(pdf) > 0 and isinstance(pdf[col_name].iloc[0], list):
                pass
            elif col_type == np.dtype(bytes):
                pdf[col_name] = pdf[col_name].map(lambda x: bytes(x, "utf8"))
            else:
                pdf[col_name] = pdf[col_name].astype(col_type, copy=False)
        except Exception as ex:
            raise failed_type_conversion(col_name, col_type, ex)
    return pdf


def convert_data_type(data, spec):
    import numpy as np

    try:
        if spec is None:
            return np.array(data)
        if isinstance(spec, TensorSpec):
            return np.array(data, dtype=spec.type)
        if isinstance(spec.type, DataType):
            if isinstance(data, (list, np.ndarray)):
                return np.array(data, spec.type.numpy)
            return np.array([data], spec.type.numpy)[0]
        return data
    except WorkerError:
        raise
    except Exception as ex:
        raise WorkerError(BAD_REQUEST, f"Invalid input. {ex}")


def cast_schema_type(input_data, schema):
    """`inputs` / `instances` data, typed by the signature (proto_json_utils._cast_schema_type)."""
    import numpy as np

    types_dict = schema.input_dict() if schema is not None and schema.has_input_names() else {}
    if schema is not None:
        if len(types_dict) == 1 and isinstance(input_data, list) and not any(isinstance(x, dict) for x in input_data):
            input_data = {next(iter(types_dict)): input_data}
        elif not schema.has_input_names() and not (isinstance(input_data, list) or np.isscalar(input_data)):
            if schema.is_tensor_spec() and isinstance(input_data, dict) and len(input_data) == 1:
                input_data = next(iter(input_data.values()))
            else:
                raise WorkerError(
                    BAD_REQUEST,
                    "Invalid input. Failed to parse input data. This model contains an un-named "
                    " model signature which expects a single n-dimensional array or "
                    "a single value as input, however, an input of type "
                    f"{type(input_data)} was found.",
                )
    if isinstance(input_data, dict):
        return {col: convert_data_type(data, types_dict.get(col)) for col, data in input_data.items()}
    if isinstance(input_data, list) and input_data and all(isinstance(x, dict) for x in input_data):
        return [{col: convert_data_type(v, types_dict.get(col)) for col, v in row.items()} for row in input_data]
    spec = schema.inputs[0] if schema is not None else None
    return convert_data_type(input_data, spec)


def model_input(scoring_input, schema):
    """The data MLflow's scoring server would hand to `model.predict` for this request."""
    import pandas as pd

    kind = scoring_input.get("kind")
    if kind == "dataframe":
        columns = scoring_input.get("columns")
        try:
            pdf = pd.DataFrame(data=scoring_input.get("rows", []), columns=columns)
        except Exception as ex:
            raise WorkerError(
                BAD_REQUEST,
                "Invalid input. Provided dataframe_split field is not a valid dataframe representation in "
                f"'split' format. Error: '{ex}'",
            )
        return cast_df_types(pdf, schema) if schema is not None else pdf
    if kind == "tensor":
        return cast_schema_type(list(scoring_input.get("data", [])), schema)
    if kind == "tensors":
        data = dict(scoring_input.get("data", {}))
        if schema is None:
            return dataframe_from_dict(data)
        return cast_schema_type(data, schema)
    raise WorkerError(BAD_REQUEST, f"Invalid input. Unknown input kind {kind!r}.")


def dataframe_from_dict(data):
    import numpy as np
    import pandas as pd

    if all(np.isscalar(v) or v is None for v in data.values()):
        return pd.DataFrame([data])
    return pd.DataFrame(data)


# ---------------------------------------------------------------------------------------------
# Signature enforcement (mlflow.models.utils._enforce_schema and helpers)


class SchemaError(Exception):
    """An MlflowException raised while enforcing the schema; becomes INVALID_PARAMETER_VALUE."""


def clean_tensor_type(dtype):
    import numpy as np

    if dtype.char == "U":
        return np.dtype("str")
    if dtype.char == "S":
        return np.dtype("bytes")
    return dtype


def enforce_tensor_spec(values, spec):
    import numpy as np

    expected_shape = spec.shape
    actual_shape = values.shape
    actual_type = values.dtype
    if len(expected_shape) == 1 and expected_shape[0] == -1 and spec.type == np.dtype("O"):
        return values
    if len(expected_shape) > 1 and -1 in expected_shape[1:] and len(actual_shape) == 1 and actual_type == np.dtype("O"):
        return values
    if len(expected_shape) != len(actual_shape):
        raise SchemaError(f"Shape of input {actual_shape} does not match expected shape {expected_shape}.")
    for expected, actual in zip(expected_shape, actual_shape):
        if expected != -1 and expected != actual:
            raise SchemaError(f"Shape of input {actual_shape} does not match expected shape {expected_shape}.")
    if clean_tensor_type(actual_type) != spec.type:
        raise SchemaError(f"dtype of input {actual_type} does not match expected dtype {spec.type}")
    return values


def reshape_column(name, series, spec):
    import numpy as np

    if spec.shape[0] != -1 or -1 in spec.shape[1:]:
        which = "input " + name if name else "the unnamed input"
        raise SchemaError(
            "For pandas dataframe input, the first dimension of shape must be a variable "
            "dimension and other dimensions must be fixed, but in model signature the shape "
            f"of {which} is {spec.shape}."
        )
    first = series.iloc[0]
    if np.isscalar(first):
        for shape in [(-1,), (-1, 1)]:
            if spec.shape == shape:
                return enforce_tensor_spec(np.array(series, dtype=spec.type).reshape(shape), spec)
        raise SchemaError(
            f"The input pandas dataframe column '{name}' contains scalar "
            "values, which requires the shape to be (-1,) or (-1, 1), but got tensor spec "
            f"shape of {spec.shape}."
        )
    if isinstance(first, (list, np.ndarray)):
        message = (
            f"The value in the Input DataFrame column '{name}' could not be converted to the "
            f"expected shape of: '{spec.shape}'. Ensure that each of the input list "
            f"elements are of uniform length and that the data can be coerced to the tensor type '{spec.type}'"
        )
        try:
            array = np.vstack(series.tolist()).reshape(spec.shape)
            if isinstance(first, list):
                array = array.astype(spec.type)
        except ValueError:
            raise SchemaError(message)
        if len(array) != len(series):
            raise SchemaError(message)
        return array
    raise SchemaError(
        "Because the model signature requires tensor spec input, the input "
        "pandas dataframe values should be either scalar value, python list "
        "containing scalar values or numpy array containing scalar values, "
        "other types are not supported."
    )


def enforce_tensor_schema(pf_input, schema):
    import numpy as np
    import pandas as pd

    if schema.has_input_names():
        if isinstance(pf_input, dict):
            result = {}
            for spec in schema.inputs:
                if spec.name not in pf_input:
                    continue
                value = pf_input[spec.name]
                if not isinstance(value, np.ndarray):
                    raise SchemaError(
                        "This model contains a tensor-based model signature with input names,"
                        " which suggests a dictionary input mapping input name to a numpy"
                        f" array, but a dict with value type {type(value)} was found."
                    )
                result[spec.name] = enforce_tensor_spec(value, spec)
            return result
        if isinstance(pf_input, pd.DataFrame):
            return {
                spec.name: reshape_column(spec.name, pf_input[spec.name], spec)
                for spec in schema.inputs
                if spec.name in pf_input
            }
        raise SchemaError(
            "This model contains a tensor-based model signature with input names, which"
            " suggests a dictionary input mapping input name to tensor, or a pandas"
            " DataFrame input containing columns mapping input name to flattened list value"
            f" from tensor, but an input of type {type(pf_input)} was found."
        )
    spec = schema.inputs[0]
    if isinstance(pf_input, pd.DataFrame):
        num_columns = len(pf_input.columns)
        if pf_input.empty:
            raise SchemaError("Input DataFrame is empty.")
        if num_columns == 1:
            return reshape_column(None, pf_input[pf_input.columns[0]], spec)
        if spec.shape != (-1, num_columns):
            raise SchemaError(
                "This model contains a model signature with an unnamed input. Since the "
                "input data is a pandas DataFrame containing multiple columns, "
                "the input shape must be of the structure "
                "(-1, number_of_dataframe_columns). "
                f"Instead, the input DataFrame passed had {num_columns} columns and "
                f"an input shape of {spec.shape} with all values within the "
                "DataFrame of scalar type. Please adjust the passed in DataFrame to "
                "match the expected structure"
            )
        return enforce_tensor_spec(pf_input.to_numpy(), spec)
    if isinstance(pf_input, np.ndarray):
        return enforce_tensor_spec(pf_input, spec)
    raise SchemaError(
        "This model contains a tensor-based model signature with no input names,"
        " which suggests a numpy array input or a pandas dataframe input with"
        f" proper column values, but an input of type {type(pf_input)} was found."
    )


def enforce_datatype(name, values, t):
    """A column as the signature's DataType, allowing only MLflow's safe conversions."""
    import numpy as np
    import pandas as pd

    if values.dtype == object and t.name not in ("binary", "string"):
        values = values.infer_objects()
    if t.name == "string" and values.dtype == object:
        return values
    if t.pandas == values.dtype or t.numpy == values.dtype:
        return values
    if t.name == "binary" and values.dtype.kind == t.numpy.kind:
        return values
    if t.name == "datetime" and values.dtype.kind == t.numpy.kind:
        return values.astype(np.dtype("datetime64[ns]"))
    if t.name == "datetime" and values.dtype == object:
        try:
            return values.astype(np.dtype("datetime64[ns]"), errors="raise")
        except ValueError:
            raise SchemaError(f"Failed to convert column {name} from type {values.dtype} to {t!r}.")
    if t.name == "boolean" and values.dtype == object:
        return values

    numpy_type = t.numpy
    if values.dtype.kind == numpy_type.kind:
        is_upcast = values.dtype.itemsize <= numpy_type.itemsize
    elif values.dtype.kind == "u" and numpy_type.kind == "i":
        is_upcast = values.dtype.itemsize < numpy_type.itemsize
    elif values.dtype.kind in ("i", "u") and numpy_type == np.float64:
        is_upcast = values.dtype.itemsize <= 6
    else:
        is_upcast = False
    if is_upcast:
        return values.astype(numpy_type, errors="raise")

    if (
        values.dtype == np.int64
        and numpy_type in (np.float32, np.float64)
        and all(pd.isnull(x) or x in [0, 1] for x in values)
    ):
        return values.astype(numpy_type, errors="raise")
    hint = ""
    if (
        values.dtype == np.float64
        and numpy_type.kind in ("i", "u")
        and values.hasnans
        and all(pd.isnull(x) or int(x) == x for x in values)
    ):
        hint = (
            " Hint: the type mismatch is likely caused by missing values. "
            "Integer columns in python can not represent missing values and are therefore "
            "encoded as floats. The best way to avoid this problem is to infer the model "
            "schema based on a realistic data sample (training dataset) that includes missing "
            "values. Alternatively, you can declare integer columns as doubles (float64) "
            "whenever these columns may have missing values. See `Handling Integers With "
            "Missing Values <https://www.mlflow.org/docs/latest/models.html#"
            "handling-integers-with-missing-values>`_ for more details."
        )
    raise SchemaError(
        f"Incompatible input types for column {name}. Can not safely convert {values.dtype} to {numpy_type}.{hint}"
    )


def enforce_col_schema(pf_input, schema):
    import pandas as pd

    result = {}
    unchanged = True
    if schema.has_input_names():
        for spec in schema.inputs:
            if spec.name not in pf_input:
                if spec.required:
                    raise SchemaError(
                        f"The input column '{spec.name}' is required by the model "
                        "signature but missing from the input data."
                    )
                continue
            column = pf_input[spec.name]
            result[spec.name] = enforce_datatype(spec.name, column, spec.type) if isinstance(spec.type, DataType) else column
            unchanged = unchanged and result[spec.name] is column
    else:
        for name, spec in zip(pf_input.columns[: len(schema.inputs)], schema.inputs):
            column = pf_input[name]
            result[name] = enforce_datatype(name, column, spec.type) if isinstance(spec.type, DataType) else column
            unchanged = unchanged and result[name] is column
    # Nothing converted and the columns already the signature's, in its order: the frame is the answer.
    if unchanged and list(result) == list(pf_input.columns):
        return pf_input
    return pd.DataFrame(result)


def enforce_schema(pf_input, schema):
    import numpy as np
    import pandas as pd

    def is_scalar(x):
        return np.isscalar(x) or x is None

    if isinstance(pf_input, pd.Series):
        pf_input = pd.DataFrame(pf_input)
    if not schema.is_tensor_spec():
        if np.isscalar(pf_input):
            pf_input = pd.DataFrame([pf_input])
        elif isinstance(pf_input, dict):
            if any(isinstance(s.type, ComplexType) and s.type.spec.get("type") in ("array", "object") for s in schema.inputs) or all(
                is_scalar(v) or (isinstance(v, list) and all(isinstance(i, str) for i in v)) for v in pf_input.values()
            ):
                pf_input = pd.DataFrame([pf_input])
            else:
                try:
                    if any(isinstance(v, np.ndarray) and v.ndim > 1 for v in pf_input.values()):
                        pf_input = pd.DataFrame(
                            {k: v.tolist() if isinstance(v, np.ndarray) and v.ndim > 1 else v for k, v in pf_input.items()}
                        )
                    else:
                        pf_input = pd.DataFrame(pf_input)
                except Exception as e:
                    raise SchemaError(
                        "This model contains a column-based signature, which suggests a DataFrame"
                        " input. There was an error casting the input data to a DataFrame:"
                        f" {e}"
                    )
        elif isinstance(pf_input, (list, np.ndarray)):
            pf_input = pd.DataFrame(pf_input)
        if not isinstance(pf_input, pd.DataFrame):
            raise SchemaError(f"Expected input to be DataFrame. Found: {type(pf_input).__name__}")

    if schema.has_input_names():
        input_names = schema.required_input_names()
        optional_cols = set(schema.optional_input_names())
        expected = set(input_names)
        if len(expected) == 1 and isinstance(pf_input, np.ndarray):
            pf_input = {input_names[0]: pf_input}
            actual = list(input_names)
        elif isinstance(pf_input, pd.DataFrame):
            actual = list(pf_input.columns)
        elif isinstance(pf_input, dict):
            actual = list(pf_input.keys())
        else:
            actual = []
        actual_set = set(actual)
        missing = [c for c in input_names if c not in actual_set]
        extra = [c for c in actual if c not in expected and c not in optional_cols]
        if missing:
            message = f"Model is missing inputs {missing}."
            if extra:
                message += f" Note that there were extra inputs: {extra}"
            raise SchemaError(message)
    elif not schema.is_tensor_spec():
        if len(pf_input.columns) < len(schema.inputs):
            raise SchemaError(
                "Model inference is missing inputs. The model signature declares "
                f"{len(schema.inputs)} inputs  but the provided value only has "
                f"{len(pf_input.columns)} inputs. Note: the inputs were not named in the signature so we can "
                "only verify their count."
            )
    if schema.is_tensor_spec():
        return enforce_tensor_schema(pf_input, schema)
    return enforce_col_schema(pf_input, schema)


# ---------------------------------------------------------------------------------------------
# Loaders


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
