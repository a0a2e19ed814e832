"""MLflow model signatures, and the request data MLflow's scoring server hands to a model, as
MLflow 2.17 reads them (mlflow.types.schema, mlflow.utils.proto_json_utils)."""

from __future__ import annotations

import base64
import json

from mlserve_errors import BAD_REQUEST, WorkerError


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
