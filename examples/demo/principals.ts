// The demo's seeded groups and users: an analyst limited to some countries and a support agent limited to
// some fields. The administrator is ADMIN_API_KEY's, made by bootstrapAdmin() with the role ADMIN_ROLE.
import { type GroupRecord, type PrincipalRecord, type PrincipalStore, scryptHash } from 'portcullis';

/** Demo-only passwords, printed in the README; never use fixed passwords outside a demo. */
export const DEMO_USERS = {
  ana: { password: 'analyst-demo-password', role: 'analyst', group: 'analysts', name: 'Ana Analyst' },
  sam: { password: 'support-demo-password', role: 'support', group: 'support', name: 'Sam Support' },
} as const;

const ACCOUNT_PATHS = '/accounts(/.*)?';

export const DEMO_GROUPS: GroupRecord[] = [
  {
    id: 'analysts',
    name: 'Analysts',
    description: 'Read accounts of Germany and France; national ids are never shown.',
    permittedEndpoints: [
      { method: 'GET', path: ACCOUNT_PATHS },
      { method: 'POST', path: '/accounts/search/[A-Za-z]+' },
    ],
    filterFields: [{ field: 'country', value: ['DE', 'FR'] }],
    excludeFields: ['nationalId'],
  },
  {
    id: 'support',
    name: 'Support agents',
    description: 'Read and update accounts; only status, phone and notes may change.',
    permittedEndpoints: [{ method: 'GET|PATCH', path: ACCOUNT_PATHS }],
    updateFieldsPermitted: ['status', 'phone', 'notes'],
  },
];

/** Creates the demo groups and users when they do not exist yet (a restart keeps changes made since). */
export async function seedPrincipals(principals: PrincipalStore): Promise<void> {
  const existingGroups = new Set((await principals.listGroups()).map((group) => group.id));
  for (const group of DEMO_GROUPS) if (!existingGroups.has(group.id)) await principals.saveGroup(group);

  for (const [id, user] of Object.entries(DEMO_USERS)) {
    if (await principals.getPrincipal(id)) continue;
    const record: PrincipalRecord = {
      id,
      type: 'user',
      name: user.name,
      email: `${id}@portcullis.example`,
      groups: [user.group],
      attributes: { role: user.role },
      passwordHash: await scryptHash(user.password),
    };
    await principals.savePrincipal(record);
  }
}
