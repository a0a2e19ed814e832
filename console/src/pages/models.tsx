/** The landing page: every model the caller may read, filtered by name and paged, with its serving state. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { createModel, latestVersion, type RegisteredModelJson, searchModels, versionInStage } from '../api/registry';
import { listEndpoints } from '../api/serving';
import { useResource } from '../hooks/use-resource';
import { href, navigate } from '../routes';
import { Button } from '../ui/button';
import { ConfirmDialog } from '../ui/dialog';
import { ErrorBox } from '../ui/error-box';
import { TextField } from '../ui/field';
import { StatusDot } from '../ui/status-dot';
import { type Column, Table } from '../ui/table';
import { formatTime } from './format';

interface Row {
  readonly model: RegisteredModelJson;
  readonly serving?: { readonly state: string; readonly message?: string };
}

export function ModelsPage(props: { readonly filter: string; readonly pageToken?: string }) {
  const [filter, setFilter] = useState(props.filter);
  const [creating, setCreating] = useState(false);
  const [history, setHistory] = useState<string[]>([]);
  useEffect(() => {
    document.title = 'Models · mlserve';
  }, []);
  // The box follows the URL when the URL changes (back, a link), not on mount, where it may already be edited.
  const shown = useRef(props.filter);
  useEffect(() => {
    if (shown.current === props.filter) return;
    shown.current = props.filter;
    setFilter(props.filter);
  }, [props.filter]);
  const models = useResource(
    async () => {
      const [page, endpoints] = await Promise.all([searchModels(props.filter, props.pageToken), listEndpoints()]);
      const states = new Map(endpoints.map((e) => [e.registered_model_name, e]));
      return {
        rows: page.items.map((model) => ({ model, serving: states.get(model.name) })),
        next: page.nextPageToken,
      };
    },
    [props.filter, props.pageToken],
    { pollMs: 5000 },
  );
  const columns: Column<Row>[] = [
    { header: 'Name', cell: (r) => <a href={href.model(r.model.name)}>{r.model.name}</a> },
    { header: 'Latest version', cell: (r) => latestVersion(r.model) ?? '—', numeric: true },
    { header: 'Staging', cell: (r) => versionInStage(r.model, 'Staging') ?? '—', numeric: true },
    { header: 'Production', cell: (r) => versionInStage(r.model, 'Production') ?? '—', numeric: true },
    {
      header: 'Aliases',
      cell: (r) =>
        (r.model.aliases ?? []).map((a) => (
          <span key={a.alias} class="tag">
            @{a.alias} → {a.version}
          </span>
        )),
    },
    {
      header: 'Serving',
      cell: (r) =>
        r.serving ? (
          <StatusDot state={r.serving.state.replace('ENDPOINT_STATE_', '')} />
        ) : (
          <span class="muted">Not enabled</span>
        ),
    },
    { header: 'Last updated', cell: (r) => formatTime(r.model.last_updated_timestamp) },
  ];
  const applyFilter = (event: Event) => {
    event.preventDefault();
    setHistory([]);
    navigate(href.models(filter));
  };
  return (
    <>
      <h1>Models</h1>
      <div class="toolbar">
        <form class="form-row" aria-label="Filter models" onSubmit={applyFilter}>
          <TextField label="Filter by name" type="search" value={filter} onInput={setFilter} placeholder="e.g. iris" />
          <Button type="submit">Filter</Button>
        </form>
        <Button variant="primary" onClick={() => setCreating(true)}>
          Create Model
        </Button>
      </div>
      <ErrorBox error={models.error} context="Could not list the models" />
      <div class="card">
        <Table
          caption="Registered models"
          captionHidden
          columns={columns}
          rows={models.data?.rows ?? []}
          rowKey={(r) => r.model.name}
          empty={models.loading && !models.data ? 'Loading…' : 'No models match.'}
        />
        <nav class="pager" aria-label="Pages">
          <Button
            disabled={history.length === 0}
            onClick={() => {
              const previous = history.slice(0, -1);
              setHistory(previous);
              navigate(href.models(props.filter, history[history.length - 2]));
            }}
          >
            Previous page
          </Button>
          <Button
            disabled={!models.data?.next}
            onClick={() => {
              setHistory([...history, models.data?.next ?? '']);
              navigate(href.models(props.filter, models.data?.next));
            }}
          >
            Next page
          </Button>
        </nav>
      </div>
      <CreateModelDialog open={creating} onClose={() => setCreating(false)} />
    </>
  );
}

function CreateModelDialog(props: { readonly open: boolean; readonly onClose: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  return (
    <ConfirmDialog
      open={props.open}
      title="Create Model"
      confirmLabel="Create"
      onClose={props.onClose}
      onConfirm={async () => {
        const model = await createModel(name.trim(), description.trim());
        navigate(href.model(model.name));
      }}
    >
      <TextField label="Name" value={name} onInput={setName} required />
      <TextField label="Description" value={description} onInput={setDescription} />
    </ConfirmDialog>
  );
}
