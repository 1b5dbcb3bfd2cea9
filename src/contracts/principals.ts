// The principal store contract: users and OIDC groups (scoutr's auth identifiers), permission groups, API keys.
import type { PermittedEndpoint } from '../auth/principal.js';
import type { ManagedStore } from './lifecycle.js';

export type GrantValue = string | number | boolean;

/** One scoutr field filter: `value` alone means `field = value`, a list means `field IN [...]`. */
export interface FieldFilterRule {
  field: string;
  value: GrantValue | GrantValue[];
}

/** What a user, an OIDC group or a permission group may hold (scoutr's group fields). */
export interface Grants {
  /** Endpoints that may be called: method (`GET`, `GET|POST` or `*`) and a path regex, anchored at both ends. */
  permittedEndpoints?: PermittedEndpoint[];
  /** Record filters; see `mergePermissions` for how they combine. */
  filterFields?: FieldFilterRule[];
  /** Fields never returned to, nor accepted from, this principal. */
  excludeFields?: string[];
  /** When set, the only fields that may be updated. */
  updateFieldsPermitted?: string[];
  /** Fields that may never be updated. */
  updateFieldsRestricted?: string[];
  /** Every endpoint, no filters: an administrator. */
  admin?: boolean;
}

/** A named permission group that users and OIDC groups list in `groups`. */
export interface GroupRecord extends Grants {
  id: string;
  name?: string;
  description?: string;
}

/** `user`: a person or service account (scoutr USERNAME); `oidcGroup`: an identity-provider group (OIDC_GROUP). */
export type PrincipalType = 'user' | 'oidcGroup';

export interface PrincipalRecord extends Grants {
  id: string;
  type: PrincipalType;
  name?: string;
  email?: string;
  /** Permission groups this principal is a member of. */
  groups: string[];
  /** Free attributes for the ABAC subject (department, clearance...). */
  attributes: Record<string, unknown>;
  /** scrypt hash of the login password (`scrypt$N$r$p$salt$hash`); never returned by the admin routes. */
  passwordHash?: string;
  /** A disabled principal cannot authenticate by any strategy. */
  disabled?: boolean;
  /** Per-principal quota overrides: action name → uses per period. */
  quotas?: Record<string, number>;
}

export interface ApiKeyRecord {
  /** The public key id, the part before the dot of the presented key. */
  id: string;
  /** The principal the key acts as. */
  principalId: string;
  name?: string;
  /** Keyed or slow hash of the secret; the secret itself is never stored. */
  secretHash: string;
  /** Scopes the key is limited to; empty means the principal's full permissions. */
  scopes: string[];
  createdAt: Date;
  expiresAt?: Date;
  lastUsedAt?: Date;
  revokedAt?: Date;
}

/**
 * A principal's TOTP second factor (RFC 6238). The secret is stored only as field-encryption ciphertext; the
 * recovery codes only as hashes. Steps and recovery codes are consumed by the store's atomic operations
 * (`claimTotpStep`, `useRecoveryCode`), never by a read-modify-write, so two concurrent logins cannot both
 * use one code.
 */
export interface SecondFactorRecord {
  principalId: string;
  /** The TOTP secret as field-encryption ciphertext (`pc1:...`), bound to the principal. */
  secret: string;
  /** False between enrolment and the first code that confirms it; only a confirmed factor is asked at login. */
  confirmed: boolean;
  /** Hashes of the recovery codes not used yet. */
  recoveryCodes: string[];
  /** The last TOTP time step a code was accepted for; codes of this step or earlier are refused. */
  lastStep?: number;
  /** Until then an administrator lets the principal log in without a code. */
  bypassUntil?: Date;
  /** Who granted the bypass. */
  bypassGrantedBy?: string;
  createdAt: Date;
}

/** The fields of a second factor that `updateSecondFactor` may change (`null` clears an optional one). */
export interface SecondFactorChange {
  /** The same secret encrypted anew (key rotation). */
  secret?: string;
  confirmed?: boolean;
  recoveryCodes?: string[];
  bypassUntil?: Date | null;
  bypassGrantedBy?: string | null;
}

/** Users, OIDC groups, permission groups and API keys, on one backend. */
export interface PrincipalStore extends ManagedStore {
  getPrincipal(id: string): Promise<PrincipalRecord | undefined>;
  /** Creates or replaces. */
  savePrincipal(record: PrincipalRecord): Promise<PrincipalRecord>;
  /** True when it existed. Its API keys are deleted with it. */
  deletePrincipal(id: string): Promise<boolean>;
  listPrincipals(options?: { type?: PrincipalType }): Promise<PrincipalRecord[]>;

  /** The groups among `ids` that exist, in the order of `ids`. */
  getGroups(ids: readonly string[]): Promise<GroupRecord[]>;
  saveGroup(record: GroupRecord): Promise<GroupRecord>;
  deleteGroup(id: string): Promise<boolean>;
  listGroups(): Promise<GroupRecord[]>;

  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Stores a new key; a duplicate id is a `ConflictError`. */
  createApiKey(record: ApiKeyRecord): Promise<ApiKeyRecord>;
  /** Replaces the secret hash of an existing key or creates it (used by the admin bootstrap). */
  saveApiKey(record: ApiKeyRecord): Promise<ApiKeyRecord>;
  listApiKeys(principalId?: string): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; true when it existed and was live. */
  revokeApiKey(id: string, at: Date): Promise<boolean>;
  /** Records use; never fails the request when it cannot. */
  touchApiKey(id: string, at: Date): Promise<void>;

  getSecondFactor(principalId: string): Promise<SecondFactorRecord | undefined>;
  /** Creates or replaces a principal's second factor (a new enrolment). */
  saveSecondFactor(record: SecondFactorRecord): Promise<SecondFactorRecord>;
  /**
   * Changes some fields of an existing second factor, leaving `lastStep` alone; false when there is none, or
   * when `ifSecret` is given and the stored secret is another one (the principal enrolled again meanwhile).
   */
  updateSecondFactor(
    principalId: string,
    change: SecondFactorChange,
    options?: { ifSecret?: string },
  ): Promise<boolean>;
  /** Up to `limit` second factors in principal id order, those after `after` (for key rotation). */
  listSecondFactors(options: { after?: string; limit: number }): Promise<SecondFactorRecord[]>;
  /** True when it existed. Deleting a principal deletes its second factor. */
  deleteSecondFactor(principalId: string): Promise<boolean>;
  /**
   * Atomically records that a code of `step` was accepted: true when `step` is later than the last accepted
   * step (or none was), false otherwise (a replay, or the principal has no second factor).
   */
  claimTotpStep(principalId: string, step: number): Promise<boolean>;
  /** Atomically removes the recovery code hash `hash`; true when it was there (so each code works once). */
  useRecoveryCode(principalId: string, hash: string): Promise<boolean>;
}
