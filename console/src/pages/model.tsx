/**
 * A registered model: its name and description, and the tabs Versions, Serving and (for those
 * who manage it) Permissions. The caller's level on the model decides which controls show; the
 * server enforces every one of them regardless.
 */
import { useEffect } from 'preact/hooks';
import { includes, type PermissionLevel } from '../../../core/auth/levels';
import { myPermission } from '../api/access';
import { getModel } from '../api/registry';
import { useResource } from '../hooks/use-resource';
import { href, type Route } from '../routes';
import { ErrorBox } from '../ui/error-box';
import { Tabs } from '../ui/tabs';
import { PermissionsTab } from './permissions/permissions-tab';
import { ServingTab } from './serving/serving-tab';
import { VersionsTab } from './versions/versions-tab';

export type ModelRoute = Extract<Route, { page: 'model' }>;

/** What the signed-in caller may do on this model. */
export interface Abilities {
  readonly level?: PermissionLevel;
  readonly can: (needed: PermissionLevel) => boolean;
}

export function ModelPage(props: { readonly route: ModelRoute }) {
  const { name, tab } = props.route;
  const model = useResource(() => getModel(name), [name], { pollMs: 5000 });
  const level = useResource(() => myPermission(name), [name]);
  const serving = props.route.serving;
  useEffect(() => {
    const words = (id: string) =>
      id.replace(/(^|-)(\w)/g, (_, dash: string, c: string) => `${dash ? ' ' : ''}${c.toUpperCase()}`);
    const view = tab === 'serving' ? `Serving · ${words(serving)}` : words(tab);
    document.title = `${name} · ${view} · mlserve`;
  }, [name, tab, serving]);
  const abilities: Abilities = {
    level: level.data ?? undefined,
    can: (needed) => includes(level.data ?? undefined, needed),
  };
  const tabs = [
    { id: 'versions', label: 'Versions', href: href.model(name, 'versions') },
    { id: 'serving', label: 'Serving', href: href.model(name, 'serving') },
    ...(abilities.can('CAN_MANAGE')
      ? [{ id: 'permissions', label: 'Permissions', href: href.model(name, 'permissions') }]
      : []),
  ];
  return (
    <>
      <p class="breadcrumb">
        <a href={href.models()}>Models</a> / {name}
      </p>
      <h1>{name}</h1>
      <ErrorBox error={model.error} context={`Could not read model '${name}'`} />
      {model.data?.description && <p class="muted">{model.data.description}</p>}
      <Tabs label={`Model ${name}`} tabs={tabs} selected={tab} idPrefix="model">
        {tab === 'versions' && <VersionsTab route={props.route} abilities={abilities} />}
        {tab === 'serving' && <ServingTab route={props.route} abilities={abilities} />}
        {tab === 'permissions' && <PermissionsTab name={name} abilities={abilities} />}
      </Tabs>
    </>
  );
}
