// Turns stored principal records into the request's Principal and its effective permissions.
import type { PrincipalRecord, PrincipalStore } from '../contracts/principals.js';
import { combineAlternatives, mergePermissions, noPermissions } from './permissions.js';
import type { EffectivePermissions, Principal, PrincipalKind } from './principal.js';

/** A user's own grants merged with its groups' (one store round trip for the groups). */
export async function permissionsOf(
  store: Pick<PrincipalStore, 'getGroups'>,
  record: PrincipalRecord,
): Promise<EffectivePermissions> {
  const groups = record.groups.length > 0 ? await store.getGroups(record.groups) : [];
  return mergePermissions(record, groups);
}

/**
 * Permissions of a proxy-authenticated user: the user's record (when one exists) and each known OIDC
 * group, each merged with its child groups, OR'd together. Unknown OIDC groups grant nothing.
 */
export async function permissionsOfOidcUser(
  store: Pick<PrincipalStore, 'getGroups' | 'getPrincipal'>,
  user: PrincipalRecord | undefined,
  oidcGroups: readonly string[],
): Promise<EffectivePermissions> {
  const records = await Promise.all(oidcGroups.map((id) => store.getPrincipal(id)));
  const alternatives: PrincipalRecord[] = [];
  if (user && !user.disabled) alternatives.push(user);
  for (const record of records) {
    if (record && record.type === 'oidcGroup' && !record.disabled) alternatives.push(record);
  }
  if (alternatives.length === 0) return noPermissions();
  return combineAlternatives(await Promise.all(alternatives.map((record) => permissionsOf(store, record))));
}

/** The request's Principal for a stored record; the record's attributes become the ABAC subject's. */
export function principalFrom(
  record: Pick<PrincipalRecord, 'id' | 'name' | 'email' | 'groups' | 'attributes' | 'quotas'>,
  kind: PrincipalKind,
  extra: Partial<Principal> = {},
): Principal {
  return {
    id: record.id,
    kind,
    ...(record.name !== undefined ? { name: record.name } : {}),
    ...(record.email !== undefined ? { email: record.email } : {}),
    groups: [...record.groups],
    ...(record.quotas !== undefined ? { quotas: { ...record.quotas } } : {}),
    attributes: { ...record.attributes },
    ...extra,
  };
}
