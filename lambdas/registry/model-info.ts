/**
 * A version's recorded artifact as the console reads it: its flavors, MLflow version, and its
 * signature — which MLmodel keeps as JSON strings — as lists of columns, tensors and parameters.
 */
import { hasInputExample } from '../../core/registry/input-example';
import type { ArtifactInfo } from '../../core/registry/model';
import type { ColumnSpecJson, ModelInfoJson, ParamSpecJson, SignatureSpecJson, TensorSpecJson } from './responses';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The JSON list in one of MLmodel's signature strings; anything unreadable reads as none. */
function parseList(text: string | undefined): unknown[] {
  if (text === undefined) return [];
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

const shapeOf = (value: unknown): number[] | undefined =>
  Array.isArray(value) && value.every((d) => typeof d === 'number') ? (value as number[]) : undefined;

/**
 * MLflow's column type as one readable string: a scalar as it is (`double`), nested types spelled
 * out — `array<string>`, `map<string, double>`, `object<a: long, b?: string>`.
 */
export function typeText(spec: unknown): string {
  if (typeof spec === 'string') return spec;
  if (!isRecord(spec)) return 'unknown';
  const type = typeof spec.type === 'string' ? spec.type : 'unknown';
  if (type === 'array') return `array<${typeText(spec.items)}>`;
  if (type === 'map') return `map<string, ${typeText(spec.values)}>`;
  if (type === 'object' && isRecord(spec.properties)) {
    const fields = Object.entries(spec.properties).map(
      ([name, property]) =>
        `${name}${isRecord(property) && property.required === false ? '?' : ''}: ${typeText(property)}`,
    );
    return `object<${fields.join(', ')}>`;
  }
  return type;
}

function specJson(entry: unknown): SignatureSpecJson | undefined {
  if (!isRecord(entry)) return undefined;
  const name = typeof entry.name === 'string' ? { name: entry.name } : {};
  if (entry.type === 'tensor') {
    const tensor = isRecord(entry['tensor-spec']) ? entry['tensor-spec'] : {};
    return {
      ...name,
      type: 'tensor',
      dtype: typeof tensor.dtype === 'string' ? tensor.dtype : 'unknown',
      shape: shapeOf(tensor.shape) ?? [],
    } satisfies TensorSpecJson;
  }
  // MLflow before 2.8 wrote no `required`: every column was required.
  return { ...name, type: typeText(entry), required: entry.required !== false } satisfies ColumnSpecJson;
}

function paramJson(entry: unknown): ParamSpecJson | undefined {
  if (!isRecord(entry) || typeof entry.name !== 'string') return undefined;
  const shape = shapeOf(entry.shape);
  return {
    name: entry.name,
    type: typeText(entry),
    ...('default' in entry ? { default: entry.default } : {}),
    ...(shape ? { shape } : {}),
  };
}

const present = <T>(value: T | undefined): value is T => value !== undefined;

export function modelInfoJson(artifact: ArtifactInfo): ModelInfoJson {
  const signature = artifact.signature;
  return {
    flavors: Object.keys(artifact.flavors),
    ...(artifact.mlflowVersion ? { mlflow_version: artifact.mlflowVersion } : {}),
    ...(signature
      ? {
          signature: {
            inputs: parseList(signature.inputs).map(specJson).filter(present),
            outputs: parseList(signature.outputs).map(specJson).filter(present),
            params: parseList(signature.params).map(paramJson).filter(present),
          },
        }
      : {}),
    has_input_example: hasInputExample(artifact),
  };
}
