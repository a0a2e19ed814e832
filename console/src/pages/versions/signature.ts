/** A model signature's parts (inputs, outputs, params, as get-model-info answers them) as table rows. */
import type { ParamSpecJson, SignatureSpecJson } from '../../api/registry';

export interface SpecRow {
  /** Where the spec stands in its part (specs need not be named). */
  readonly position: number;
  readonly name: string;
  readonly type: string;
  readonly shape: string;
  /** "required"/"optional" for a column; the default, as JSON, for a parameter. */
  readonly note: string;
}

const shapeText = (shape: readonly number[] | undefined) => (shape ? `(${shape.join(', ')})` : '—');

/** Inputs or outputs: columns (name, type, required) or tensors (name, dtype, shape). */
export function specRows(specs: readonly SignatureSpecJson[]): readonly SpecRow[] {
  return specs.map((spec, position) =>
    spec.type === 'tensor' && 'dtype' in spec
      ? { position, name: spec.name ?? '—', type: `tensor of ${spec.dtype}`, shape: shapeText(spec.shape), note: '—' }
      : {
          position,
          name: spec.name ?? '—',
          type: spec.type,
          shape: '—',
          note: 'required' in spec && spec.required === false ? 'optional' : 'required',
        },
  );
}

export function paramRows(params: readonly ParamSpecJson[]): readonly SpecRow[] {
  return params.map((param, position) => ({
    position,
    name: param.name,
    type: param.type,
    shape: shapeText(param.shape),
    note: param.default === undefined ? '—' : JSON.stringify(param.default),
  }));
}
