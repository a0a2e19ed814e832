/**
 * One version in detail: what its MLmodel says (flavors, MLflow version, the signature's inputs,
 * outputs and params as tables, whether an input example was saved).
 */
import { getModelInfo, type ModelInfoJson, type ModelVersionJson } from '../../api/registry';
import { useResource } from '../../hooks/use-resource';
import { href } from '../../routes';
import { ErrorBox } from '../../ui/error-box';
import { type Column, Table } from '../../ui/table';
import { paramRows, type SpecRow, specRows } from './signature';

export function VersionDetail(props: {
  readonly name: string;
  readonly version: string;
  /** The version's row, once the list has it. */
  readonly model?: ModelVersionJson;
}) {
  const { name, version } = props;
  const status = props.model?.status;
  const info = useResource(() => getModelInfo(name, version), [name, version, status]);
  return (
    <section class="card version-detail" aria-labelledby="version-detail-title">
      <div class="version-detail-head">
        <h2 id="version-detail-title">Version {version}</h2>
        <a href={href.model(name, 'versions')}>Close details</a>
      </div>
      {props.model?.description && <p>{props.model.description}</p>}
      {status === 'PENDING_REGISTRATION' && <p class="muted">The version is still being registered.</p>}
      <ErrorBox error={info.error} context={`Could not read the model of version ${version}`} />
      {info.loading && !info.data && <p class="muted">Loading…</p>}
      {info.data && <ModelInfo info={info.data} />}
    </section>
  );
}

function ModelInfo(props: { readonly info: ModelInfoJson }) {
  const { info } = props;
  const flavors = info.flavors;
  return (
    <>
      <dl class="version-facts">
        <dt>Flavors</dt>
        <dd>
          {flavors.length > 0
            ? flavors.map((f) => (
                <span key={f} class="tag">
                  {f}
                </span>
              ))
            : '—'}
        </dd>
        <dt>MLflow version</dt>
        <dd>{info.mlflow_version ?? '—'}</dd>
        <dt>Input example</dt>
        <dd>{info.has_input_example ? 'Saved with the model' : 'None'}</dd>
      </dl>
      <h3>Signature</h3>
      {info.signature ? (
        <>
          <SpecTable title="Inputs" rows={specRows(info.signature.inputs)} note="Required" />
          <SpecTable title="Outputs" rows={specRows(info.signature.outputs)} note="Required" />
          <SpecTable title="Params" rows={paramRows(info.signature.params)} note="Default" />
        </>
      ) : (
        <p class="muted">The model was logged without a signature.</p>
      )}
    </>
  );
}

function SpecTable(props: { readonly title: string; readonly rows: readonly SpecRow[]; readonly note: string }) {
  const columns: Column<SpecRow>[] = [
    { header: 'Name', cell: (r) => r.name },
    { header: 'Type', cell: (r) => <code>{r.type}</code> },
    { header: 'Shape', cell: (r) => r.shape },
    { header: props.note, cell: (r) => r.note },
  ];
  return (
    <Table
      caption={props.title}
      columns={columns}
      rows={props.rows}
      rowKey={(r) => String(r.position)}
      empty={`The signature declares no ${props.title.toLowerCase()}.`}
    />
  );
}
