/**
 * Model Versions: every served version with its state and stage/alias tags (polled, so a new
 * version appears on its own); for the selected one (`?version=`), its model URLs, Call the
 * model, its logs and its events.
 */
import { type EndpointVersionJson, listServedVersions } from '../../api/serving';
import { useResource } from '../../hooks/use-resource';
import { href } from '../../routes';
import { ErrorBox } from '../../ui/error-box';
import { StatusDot } from '../../ui/status-dot';
import { type Column, Table } from '../../ui/table';
import type { ModelRoute } from '../model';
import { CallModel } from './call-model';
import { ModelUrls, refsOf } from './model-urls';
import { POLL_MS } from './polling';
import { VersionEvents, VersionLogs } from './version-logs';

export function ModelVersions(props: { readonly route: ModelRoute }) {
  const { name } = props.route;
  const versions = useResource(() => listServedVersions(name), [name], { pollMs: POLL_MS });
  const list = versions.data ?? [];
  const selected = list.find((v) => v.endpoint_version_name === props.route.version) ?? list[0];
  const link = (v: EndpointVersionJson) =>
    href.model(name, 'serving', {
      serving: 'model-versions',
      version: v.endpoint_version_name,
      call: props.route.call,
    });
  const columns: Column<EndpointVersionJson>[] = [
    {
      header: 'Version',
      cell: (v) => (
        <a href={link(v)} aria-current={v === selected ? 'true' : undefined}>
          Version {v.endpoint_version_name}
        </a>
      ),
    },
    { header: 'State', cell: (v) => <StatusDot state={v.state.replace('VERSION_STATE_', '')} /> },
    {
      header: 'Stage / aliases',
      cell: (v) =>
        refsOf(v)
          .filter((r) => r.kind !== 'version')
          .map((r) => (
            <span key={r.ref} class="tag">
              {r.ref}
            </span>
          )),
    },
    { header: 'Message', cell: (v) => <span class="muted">{v.message ?? ''}</span> },
  ];
  return (
    <>
      <ErrorBox error={versions.error} context="Could not list the served versions" />
      <Table
        caption="Served versions"
        columns={columns}
        rows={list}
        rowKey={(v) => v.endpoint_version_name}
        selected={(v) => v === selected}
        empty={
          versions.loading && !versions.data
            ? 'Loading…'
            : 'No version is live: register one, or restore an archived one.'
        }
      />
      {selected && (
        <section class="version-detail" aria-labelledby="served-version-title">
          <h2 id="served-version-title">Version {selected.endpoint_version_name}</h2>
          <ModelUrls version={selected} />
          <CallModel key={selected.endpoint_version_name} route={props.route} version={selected} />
          <VersionLogs name={name} version={selected.endpoint_version_name} />
          <VersionEvents name={name} version={selected.endpoint_version_name} />
        </section>
      )}
    </>
  );
}
