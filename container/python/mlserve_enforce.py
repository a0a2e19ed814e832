"""Signature enforcement, as MLflow 2.17 does it (mlflow.models.utils._enforce_schema and helpers)."""

from __future__ import annotations

from mlserve_schema import ComplexType, DataType


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
