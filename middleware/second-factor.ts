// The TOTP second factor of the auth router: the pending login between password and code, enrolment, recovery codes.
import { createHash, randomBytes } from 'node:crypto';
import type { Request, Router } from 'express';
import { PENDING_TOTP_STAGE, type Totp } from '../src/auth/totp.js';
import { systemClock, type Clock } from '../src/clock.js';
import type { PrincipalRecord, PrincipalStore, SecondFactorRecord } from '../src/contracts/principals.js';
import type { SessionStore } from '../src/contracts/sessions.js';
import {
  AuthenticationError,
  ConfigError,
  ConflictError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
  type FieldProblem,
} from '../src/errors.js';
import { checkOptions, integerOption } from '../src/options.js';
import { silentLogger, type Logger } from '../src/logger.js';
import { DecryptionError } from '../src/pii/field-cipher.js';
import { contextOf } from './context.js';
import type { FailureLimit } from './failure-limit.js';
import { objectBody } from './json-body.js';

export interface SecondFactorOptions {
  /** The TOTP engine (`createTotp({ keys })`). Required. */
  totp: Totp;
  /**
   * Failed codes per principal over every address (`failureLimit({ name: 'totp', accountAcrossAddresses: true })`).
   * Only who knows the password reaches the code step, so counting across addresses locks out no one else.
   * Default none (not recommended: six digits fall to guessing).
   */
  failures?: FailureLimit;
  /** Lifetime of the pending login between the password and the code (`TOTP_PENDING_TTL`). Default 300 000 (5 min). */
  pendingTtlMs?: number;
  now?: Clock;
}

/** What `POST /login` answers (202) when the principal has a second factor. */
export interface PendingLogin {
  status: 'totp_required';
  /** Opaque; good for `POST /login/totp` only, until `expiresAt`, once. */
  pendingToken: string;
  expiresAt: string;
}

/** The parts of the second factor the auth router calls. */
export interface SecondFactor {
  /**
   * After a correct password: `undefined` when the principal may log in now (no confirmed factor, or a bypass
   * is running), else the pending login to answer.
   */
  afterPassword(req: Request, record: PrincipalRecord): Promise<PendingLogin | undefined>;
  /** `POST /login/totp`: the principal whose pending login the body's code completes; throws otherwise. */
  completeLogin(req: Request): Promise<{ userId: string; method: 'totp' | 'recovery_code'; recoveryCodesLeft: number }>;
  /** `GET|POST|DELETE /totp`, `POST /totp/confirm`, `POST /totp/recovery-codes`, for the caller itself. */
  install(router: Router): void;
}

const PENDING_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const REDACTED = '[redacted]';

/** Records the step on the request's audit event (when `auditTrail()` runs), naming the principal concerned. */
export function auditStep(
  req: Request,
  action: string,
  principalId: string,
  extra: Record<string, unknown> = {},
): void {
  const draft = contextOf(req).audit;
  if (!draft) return;
  draft.action = action;
  draft.resource = 'auth';
  draft.resourceId = principalId;
  Object.assign(draft.extra, extra);
}

// The audit trail records request bodies in a hash chain kept for years: a pending token still alive or a
// recovery code typed wrong must not be readable there, so they are replaced once read.
// Returns the body as it came.
function scrubbed(req: Request, fields: readonly string[]): unknown {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const copy: Record<string, unknown> = { ...body };
  for (const field of fields) if (copy[field] !== undefined) copy[field] = REDACTED;
  req.body = copy;
  return body;
}

/** Names the caller's request before any check, so that a refused step is recorded under its own name too. */
function named(req: Request, action: string): void {
  auditStep(req, action, contextOf(req).principal?.id ?? 'unknown');
}

/** `{ code }` or `{ recoveryCode }`, exactly one, as strings of a sane length. */
function proofOf(body: Record<string, unknown>, allowRecovery: boolean): { code?: string; recoveryCode?: string } {
  const problems: FieldProblem[] = [];
  const { code, recoveryCode } = body;
  if (code !== undefined && (typeof code !== 'string' || code.length > 16)) {
    problems.push({ field: 'code', message: 'must be the 6-digit code of your authenticator app' });
  }
  if (recoveryCode !== undefined && (typeof recoveryCode !== 'string' || recoveryCode.length > 64)) {
    problems.push({ field: 'recoveryCode', message: 'must be one of your recovery codes' });
  }
  if ((code === undefined) === (recoveryCode === undefined || !allowRecovery)) {
    problems.push({
      field: 'code',
      message: allowRecovery ? 'is required (or recoveryCode instead, not both)' : 'is required',
    });
  }
  if (problems.length > 0) throw new ValidationError('Invalid second-factor request.', { errors: problems });
  return code !== undefined ? { code: code as string } : { recoveryCode: recoveryCode as string };
}

/** The second factor over the principal and session stores; options validated here, once. */
export function secondFactor(
  options: SecondFactorOptions,
  stores: { principals: PrincipalStore; sessions: SessionStore },
  logger: Logger = silentLogger,
): SecondFactor {
  checkOptions('secondFactor', options, ['totp', 'failures', 'pendingTtlMs', 'now']);
  if (typeof options?.totp?.stepOf !== 'function') throw new ConfigError('secondFactor.totp', 'must be createTotp()');
  if (options.failures !== undefined && typeof options.failures.check !== 'function')
    throw new ConfigError('secondFactor.failures', 'must be a failureLimit()');
  const pendingTtlMs = integerOption('secondFactor.pendingTtlMs', options.pendingTtlMs, {
    fallback: 300_000,
    min: 10_000,
    max: 3_600_000,
  });
  const { totp, failures } = options;
  const now = options.now ?? systemClock;
  const { principals, sessions } = stores;
  const pendingId = (token: string) => createHash('sha256').update(token).digest('base64url');
  const accountOf = (principalId: string) => `totp:${principalId}`;

  /**
   * Checks a code (or recovery code) of a confirmed or pending factor under the failure limit, consuming it:
   * its step or the recovery code can never be used again.
   */
  async function prove(
    req: Request,
    factor: SecondFactorRecord,
    proof: { code?: string; recoveryCode?: string },
  ): Promise<boolean> {
    const account = accountOf(factor.principalId);
    try {
      await failures?.check(req, account);
    } catch (error) {
      // A guesser going on past the limit must stay visible in the principal's own trail.
      if (error instanceof RateLimitedError)
        auditStep(req, 'auth.totp.failed', factor.principalId, { reason: 'limited' });
      throw error;
    }
    let ok = false;
    if (proof.code !== undefined) {
      const step = stepOf(factor, proof.code);
      ok = step !== undefined && (await principals.claimTotpStep(factor.principalId, step));
      // Key rotation for secrets: each is moved onto the current key the first time it proves itself.
      const secret = ok ? totp.reencrypted(factor) : undefined;
      // Conditional on the secret just used: an enrolment that replaced it meanwhile is kept.
      if (secret) await principals.updateSecondFactor(factor.principalId, { secret }, { ifSecret: factor.secret });
    } else if (proof.recoveryCode !== undefined) {
      const hash = totp.recoveryHash(factor.principalId, proof.recoveryCode);
      ok = hash !== undefined && (await principals.useRecoveryCode(factor.principalId, hash));
    }
    if (ok) await failures?.succeeded(req, account);
    else await failures?.failed(req, account);
    return ok;
  }

  /**
   * A secret whose key version left the key ring cannot check codes: that is logged (the operator removed a
   * key too early), and the principal can still use a recovery code, whose hashes need no key.
   */
  function stepOf(factor: SecondFactorRecord, code: string): number | undefined {
    try {
      return totp.stepOf(factor, code);
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      logger.error(
        { code: 'auth.totp_undecryptable', principalId: factor.principalId, reason: error.code },
        'TOTP secret cannot be decrypted with the key ring',
      );
      return undefined;
    }
  }

  function refused(req: Request, principalId: string, reason: string): AuthenticationError {
    auditStep(req, 'auth.totp.failed', principalId, { reason });
    return new AuthenticationError('The code is wrong, used already, or too old.', {
      code: 'authentication.totp_failed',
    });
  }

  /** The caller's own confirmed-or-not factor; only a session may manage it (an API key acts for its owner). */
  function selfOf(req: Request): { id: string; account: string } {
    const principal = contextOf(req).principal!;
    if (!principal.sessionId || principal.kind !== 'user') {
      throw new ValidationError('Log in with a password to manage your second factor.', {
        code: 'validation.no_session',
      });
    }
    return { id: principal.id, account: principal.email ?? principal.name ?? principal.id };
  }

  return {
    async afterPassword(req, record) {
      const factor = await principals.getSecondFactor(record.id);
      if (!factor?.confirmed) return undefined;
      if (factor.bypassUntil && factor.bypassUntil.getTime() > now()) {
        auditStep(req, 'auth.totp.bypassed', record.id, {
          bypassUntil: factor.bypassUntil.toISOString(),
          ...(factor.bypassGrantedBy ? { bypassGrantedBy: factor.bypassGrantedBy } : {}),
        });
        return undefined;
      }
      const token = randomBytes(32).toString('base64url');
      const session = await sessions.create({
        id: pendingId(token),
        userId: record.id,
        ttlMs: pendingTtlMs,
        meta: { stage: PENDING_TOTP_STAGE, ip: req.ip ?? '' },
      });
      auditStep(req, 'auth.totp.required', record.id);
      return { status: 'totp_required', pendingToken: token, expiresAt: session.expiresAt.toISOString() };
    },

    async completeLogin(req) {
      // Until the pending login names its principal, a malformed request is recorded as a failed step of nobody.
      auditStep(req, 'auth.totp.failed', 'unknown');
      const fields = ['pendingToken', 'code', 'recoveryCode'];
      const body = objectBody(scrubbed(req, fields), fields);
      const token = body.pendingToken;
      if (typeof token !== 'string' || !PENDING_TOKEN.test(token)) {
        throw new ValidationError('Invalid second-factor request.', {
          errors: [{ field: 'pendingToken', message: 'must be the pendingToken of POST /login' }],
        });
      }
      const proof = proofOf(body, true);
      const id = pendingId(token);
      const pending = await sessions.get(id);
      // The store's own expiry and ours: a store on another clock must not stretch the pending state.
      if (
        !pending ||
        pending.meta.stage !== PENDING_TOTP_STAGE ||
        pending.createdAt.getTime() + pendingTtlMs <= now()
      ) {
        auditStep(req, 'auth.totp.pending_refused', pending?.userId ?? 'unknown');
        throw new AuthenticationError('This login has expired or is unknown; log in with your password again.', {
          code: 'authentication.pending_invalid',
        });
      }
      const userId = pending.userId;
      const [factor, record] = await Promise.all([principals.getSecondFactor(userId), principals.getPrincipal(userId)]);
      if (!factor?.confirmed || !record || record.disabled) {
        await sessions.revoke(id);
        throw refused(req, userId, 'no_factor');
      }
      if (!(await prove(req, factor, proof)))
        throw refused(req, userId, proof.code !== undefined ? 'code' : 'recovery_code');
      // One pending login gives one session: of two requests completing it at once, only one revokes it.
      if (!(await sessions.revoke(id))) {
        auditStep(req, 'auth.totp.pending_refused', userId, { reason: 'used' });
        throw new AuthenticationError('This login has been completed already.', {
          code: 'authentication.pending_invalid',
        });
      }
      const method = proof.code !== undefined ? 'totp' : 'recovery_code';
      const left = method === 'totp' ? factor.recoveryCodes.length : factor.recoveryCodes.length - 1;
      auditStep(req, 'auth.login', userId, { secondFactor: method, recoveryCodesLeft: left });
      return { userId, method, recoveryCodesLeft: left };
    },

    install(router) {
      router.get('/totp', async (req, res) => {
        const factor = await principals.getSecondFactor(selfOf(req).id);
        res.json({
          enrolled: factor?.confirmed ?? false,
          pending: factor !== undefined && !factor.confirmed,
          recoveryCodesLeft: factor?.confirmed ? factor.recoveryCodes.length : 0,
          ...(factor?.bypassUntil && factor.bypassUntil.getTime() > now()
            ? { bypassUntil: factor.bypassUntil.toISOString() }
            : {}),
        });
      });

      router.post('/totp', async (req, res) => {
        named(req, 'auth.totp.enrolment_started');
        const self = selfOf(req);
        const existing = await principals.getSecondFactor(self.id);
        if (existing?.confirmed) {
          throw new ConflictError('A second factor is enrolled already; remove it (DELETE /totp) first.', {
            code: 'conflict.totp_enrolled',
          });
        }
        const enrolment = await totp.enrol(self.id, self.account);
        await principals.saveSecondFactor(enrolment.record);
        auditStep(req, 'auth.totp.enrolment_started', self.id);
        res.set('Cache-Control', 'no-store');
        res.status(201).json({
          secret: enrolment.secret,
          otpauthUri: enrolment.uri,
          qrCodeSvg: enrolment.qrCodeSvg,
          issuer: totp.issuer,
        });
      });

      router.post('/totp/confirm', async (req, res) => {
        named(req, 'auth.totp.enrolled');
        const proof = proofOf(objectBody(scrubbed(req, ['code']), ['code']), false);
        const self = selfOf(req);
        const factor = await principals.getSecondFactor(self.id);
        if (!factor) throw new NotFoundError('No enrolment to confirm; start one with POST /totp.');
        if (factor.confirmed) {
          throw new ConflictError('The second factor is confirmed already.', { code: 'conflict.totp_enrolled' });
        }
        if (!(await prove(req, factor, proof))) throw refused(req, self.id, 'code');
        const { codes, hashes } = totp.recoveryCodes(self.id);
        await principals.updateSecondFactor(self.id, { confirmed: true, recoveryCodes: hashes });
        auditStep(req, 'auth.totp.enrolled', self.id, { recoveryCodes: codes.length });
        res.set('Cache-Control', 'no-store');
        res.json({ enrolled: true, recoveryCodes: codes });
      });

      router.post('/totp/recovery-codes', async (req, res) => {
        named(req, 'auth.totp.recovery_codes_replaced');
        const proof = proofOf(objectBody(scrubbed(req, ['code']), ['code']), false);
        const self = selfOf(req);
        const factor = await principals.getSecondFactor(self.id);
        if (!factor?.confirmed) throw new NotFoundError('No second factor is enrolled.');
        if (!(await prove(req, factor, proof))) throw refused(req, self.id, 'code');
        const { codes, hashes } = totp.recoveryCodes(self.id);
        await principals.updateSecondFactor(self.id, { recoveryCodes: hashes });
        auditStep(req, 'auth.totp.recovery_codes_replaced', self.id, { recoveryCodes: codes.length });
        res.set('Cache-Control', 'no-store');
        res.json({ recoveryCodes: codes });
      });

      router.delete('/totp', async (req, res) => {
        named(req, 'auth.totp.removed');
        const fields = ['code', 'recoveryCode'];
        const body = scrubbed(req, fields);
        const self = selfOf(req);
        const factor = await principals.getSecondFactor(self.id);
        if (!factor) throw new NotFoundError('No second factor is enrolled.');
        // An enrolment never confirmed protects nothing yet, and a bypass is an administrator vouching for
        // whoever lost the app: both go without a code.
        const bypassed = factor.bypassUntil !== undefined && factor.bypassUntil.getTime() > now();
        if (factor.confirmed && !bypassed) {
          const proof = proofOf(objectBody(body, fields), true);
          if (!(await prove(req, factor, proof))) throw refused(req, self.id, 'code');
        }
        await principals.deleteSecondFactor(self.id);
        auditStep(req, 'auth.totp.removed', self.id, { confirmed: factor.confirmed, bypassed });
        res.status(204).end();
      });
    },
  };
}
