/**
 * Scoring request bodies for fuzzing the model host, generated from a seed: random JSON trees,
 * mutations of valid iris requests in every MLflow format (2.x, 1.x, CSV), odd Content-Types,
 * very deep nesting, a few bodies of several MiB, and one pinned body per named case. The same
 * seed gives the same bodies in the same order, so a failure can be replayed with FUZZ_SEED.
 */
import { IRIS_COLUMNS } from '../iris-host';
import { deepBodies, largeBodies, pinnedBodies } from './fixed-bodies';
import { CSV_TYPE, type Draft, FORMATS, type Format, irisRows, JSON_TYPE, validRequest } from './requests';
import { CSV_BROKEN, multipart, mutateText, oddContentType } from './text-mutations';
import { mutateValue } from './value-mutations';
import { KiB, MiB, Rng, randomDepth, randomTree, type Value } from './values';

export type ModelKind = 'sklearn' | 'onnx';

export interface FuzzBody {
  /** What the body is (its generator and mutations), for reports. */
  readonly label: string;
  readonly body: Buffer;
  /** The Content-Type header to send; undefined sends none. */
  readonly contentType: string | undefined;
}

/** Largest body made: under the host's default limit of 16 MiB, so every body is read and answered. */
const MAX_BODY_BYTES = 15 * MiB;

function finish(draft: Draft): FuzzBody {
  let body: Buffer;
  if (draft.bytes) body = draft.bytes;
  else if (draft.text !== undefined) body = Buffer.from(draft.text, 'utf8');
  else body = Buffer.from(JSON.stringify(draft.value), 'utf8');
  // Mutations compound (a huge cell in a repeated row); stay under the host's 16 MiB body limit.
  if (body.length > MAX_BODY_BYTES)
    return { label: `${draft.label}+cut`, body: body.subarray(0, MAX_BODY_BYTES), contentType: draft.contentType };
  return { label: draft.label, body, contentType: draft.contentType };
}

/** A random JSON tree, bare or inside a format's field. */
function treeBody(rng: Rng): FuzzBody {
  const depth = randomDepth(rng);
  const tree = randomTree(rng, depth);
  const wrap = rng.pick(['bare', 'inputs', 'instances', 'dataframe_split', 'dataframe_records', 'split-1.x']);
  let value: Value;
  switch (wrap) {
    case 'bare':
      value = tree;
      break;
    case 'dataframe_split':
      value = { dataframe_split: { columns: [...IRIS_COLUMNS], data: tree } };
      break;
    case 'split-1.x':
      value = { columns: [...IRIS_COLUMNS], data: tree };
      break;
    default:
      value = { [wrap]: tree };
  }
  const contentType = rng.weighted<string | undefined>([
    [8, JSON_TYPE],
    [1, 'application/json; format=pandas-split'],
    [1, 'application/json; format=pandas-records'],
  ]);
  return { label: `tree-d${depth}-${wrap}`, body: Buffer.from(JSON.stringify(value), 'utf8'), contentType };
}

/** A valid request, mutated 0–3 times (structure, then text, then Content-Type). */
function mutatedBody(rng: Rng, kind: ModelKind): FuzzBody {
  const format: Format =
    kind === 'onnx'
      ? rng.weighted<Format>([
          [4, 'inputs_list'],
          [2, 'instances_list'],
          [2, 'inputs_named_tensor'],
          [4, rng.pick(FORMATS)],
        ])
      : rng.weighted<Format>([
          [3, 'dataframe_split'],
          [2, 'dataframe_records'],
          [1, 'csv'],
          [6, rng.pick(FORMATS)],
        ]);
  const rows = irisRows(rng);
  const draft = validRequest(format, rows);
  const labels: string[] = [format];
  const isCsv = draft.text !== undefined;
  if (isCsv && rng.chance(0.4)) {
    const [body, label] = rng.pick(CSV_BROKEN)(rng, rows);
    if (Buffer.isBuffer(body)) draft.bytes = body;
    else draft.text = body;
    labels.push(label);
  }
  if (!isCsv && draft.value !== undefined && rng.chance(0.55)) {
    for (let i = rng.int(1, 2); i > 0; i--) {
      const [value, label] = mutateValue(rng, draft.value);
      draft.value = value;
      labels.push(label);
    }
  }
  if (rng.chance(0.45) && draft.bytes === undefined) {
    const text = draft.text ?? JSON.stringify(draft.value);
    const mutated = mutateText(rng, text, isCsv);
    if (mutated) {
      const [out, label] = mutated;
      if (Buffer.isBuffer(out)) draft.bytes = out;
      else draft.text = out;
      labels.push(label);
    }
  }
  if (rng.chance(0.2)) {
    const [contentType, label] = oddContentType(rng, draft);
    draft.contentType = contentType;
    labels.push(label);
    if (label === 'ct-multipart' && rng.chance(0.7)) draft.bytes = multipart(finish(draft).body);
  }
  return { ...finish(draft), label: labels.join('+') };
}

/** Purely random bytes or text, with a JSON or CSV Content-Type. */
function noiseBody(rng: Rng): FuzzBody {
  const length = rng.weighted([
    [6, rng.int(0, 64)],
    [3, rng.int(65, 4096)],
    [1, rng.int(4097, 64 * KiB)],
  ]);
  const alphabet = '{}[]":,0123456789.eE-+ \ntruefalsnNaIiy\\u';
  const asJsonish = rng.chance(0.6);
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    body[i] = asJsonish ? alphabet.charCodeAt(rng.int(0, alphabet.length - 1)) : rng.int(0, 255);
  }
  const contentType = rng.weighted<string | undefined>([
    [6, JSON_TYPE],
    [2, CSV_TYPE],
    [1, undefined],
    [1, 'application/json; format=pandas-split'],
  ]);
  return { label: `noise-${asJsonish ? 'jsonish' : 'bytes'}-${length}`, body, contentType };
}

/**
 * `count` bodies for a model of `kind`, from `seed`: the pinned, deep and large bodies at
 * seeded positions among random trees, mutated valid requests and noise.
 */
export function* fuzzBodies(seed: number, kind: ModelKind, count: number): Generator<FuzzBody> {
  const rng = new Rng(seed ^ (kind === 'onnx' ? 0x9e3779b9 : 0));
  const special = [
    ...[...pinnedBodies(), ...deepBodies()].map((body) => () => body),
    ...largeBodies(new Rng(seed + 1)),
  ];
  const at = new Map<number, (() => FuzzBody)[]>();
  for (const make of special) {
    const position = rng.int(0, Math.max(0, count - special.length - 1));
    at.set(position, [...(at.get(position) ?? []), make]);
  }
  let produced = 0;
  for (let i = 0; produced < count; i++) {
    for (const make of at.get(i) ?? []) {
      if (produced >= count) return;
      produced++;
      yield make();
    }
    if (produced >= count) break;
    produced++;
    yield rng.weighted<() => FuzzBody>([
      [3, () => treeBody(rng)],
      [6, () => mutatedBody(rng, kind)],
      [1, () => noiseBody(rng)],
    ])();
  }
}
