// Variables of the process, the servers and the store selection.
import { PRIVACY_LEVELS } from '../../auth/privacy.js';
import { hostPortValue, hostValue, trustProxyValue, type HostPort, type TrustProxy } from '../network.js';
import { storeKinds, type StoreKind } from '../store-kinds.js';
import { DEFAULT_ATTACHMENT_MAX_BYTES, DEFAULT_ATTACHMENT_TYPES, MEDIA_RANGE } from '../../media-type.js';
import {
  defineVariables,
  durationVar,
  TIMER_MAX_MS,
  enumVar,
  integerVar,
  listVar,
  stringVar,
  urlVar,
  type VariableSpec,
} from '../variables.js';

function backendVariables() {
  const entries = Object.values(storeKinds).map((spec) => [
    spec.variable,
    enumVar({
      values: ['auto', ...spec.backends],
      default: 'auto',
      description: `${spec.description} \`auto\` picks ${spec.autoPreference.join(', then ')} when configured, else memory.`,
    }),
  ]);
  return Object.fromEntries(entries) as Record<(typeof storeKinds)[StoreKind]['variable'], VariableSpec<string>>;
}

// The message never echoes the item: node URLs may carry a password.
function redisNodeUrl(item: string): void {
  let url: URL;
  try {
    url = new URL(item);
  } catch {
    throw new Error('has an item that is not a URL (redis://host:port)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`must list redis:// or rediss:// URLs, got ${url.protocol}`);
  }
  if (!url.hostname) throw new Error('has a URL without a host');
}

export const coreVariables = defineVariables({
  PORT: integerVar({ min: 0, max: 65535, default: 3000, description: 'TCP port the demo app listens on.' }),
  HOST: {
    ...stringVar({ default: '127.0.0.1', description: 'Interface the demo app binds to.' }),
    accepts: 'IP address or host name',
    parse: hostValue,
  },
  LOG_LEVEL: enumVar({
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    description: 'Minimum level written by the logger.',
  }),
  MONGODB_URI: urlVar({
    protocols: ['mongodb:', 'mongodb+srv:'],
    secret: true,
    description: 'MongoDB connection string; when set, `auto` backends use MongoDB.',
  }),
  REDIS_URL: urlVar({
    protocols: ['redis:', 'rediss:'],
    secret: true,
    description: 'Redis connection URL; when set, `auto` backends use Redis.',
  }),
  REDIS_CLUSTER_NODES: listVar({
    secret: true,
    item: redisNodeUrl,
    description:
      "A Redis Cluster instead of one server: comma-separated URLs of some of its nodes (`redis://[user:password@]host:port`; the first URL's credentials and TLS apply to all). Counts as configured Redis; set it or `REDIS_URL`, not both.",
  }),
  REDIS_SENTINELS: {
    type: 'list',
    accepts: 'comma-separated host:port list',
    description:
      'Redis through Sentinel instead of one server: comma-separated `host:port` of some of the sentinels (`[::1]:26379` for IPv6); the client asks them for the master of `REDIS_SENTINEL_NAME` and follows a failover. Counts as configured Redis; set it, `REDIS_URL` or `REDIS_CLUSTER_NODES`, only one.',
    parse: (raw) =>
      raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
        .map(hostPortValue),
  } satisfies VariableSpec<HostPort[]>,
  REDIS_SENTINEL_NAME: stringVar({
    maxLength: 200,
    description:
      'The master group the sentinels monitor (`sentinel monitor <name> …`); required with `REDIS_SENTINELS`.',
  }),
  REDIS_SENTINEL_PASSWORD: stringVar({
    secret: true,
    description: "The sentinels' own password (their `requirepass`), when they ask for one.",
  }),
  REDIS_SENTINEL_MASTER_PASSWORD: stringVar({
    secret: true,
    description:
      'The password of the master and replicas found through `REDIS_SENTINELS` (their `requirepass`), when they ask for one.',
  }),
  MONGODB_SERVER_SELECTION_TIMEOUT: durationVar({
    max: TIMER_MAX_MS,
    default: 2000,
    min: 100,
    description: 'How long a MongoDB operation waits for a reachable server before the request gets 503.',
  }),
  MONGODB_RECONNECT_AFTER: durationVar({
    max: TIMER_MAX_MS,
    default: 10_000,
    min: 0,
    description:
      'A MongoDB server that has not answered a once-a-second ping for this long gets a fresh driver topology (monitors and pools), again after each further such period, so a process recovers from a server restart without being restarted; `/health` reports the attempts. `0` turns this off.',
  }),
  REDIS_COMMAND_TIMEOUT: durationVar({
    max: TIMER_MAX_MS,
    default: 2000,
    min: 50,
    description:
      'How long a Redis command may take before the request gets 503. A server that stops answering (frozen, half-open connection) is noticed by a PING sent every quarter of this time (at most every second) that goes unanswered for this time; commands then fail at once until it answers again, so a request started as the server froze fails within about 1.25 times this.',
  }),
  STORE_CONNECT_TIMEOUT: durationVar({
    max: TIMER_MAX_MS,
    default: 10_000,
    min: 100,
    description: 'Total time allowed at start-up to connect each server, retrying with backoff.',
  }),
  ...backendVariables(),
  TRUST_PROXY: {
    type: 'string',
    default: false,
    accepts: 'true | false | hop count | comma-separated addresses, subnets, loopback, linklocal, uniquelocal',
    description:
      "Express `trust proxy`, parsed: `app.set('trust proxy', config.TRUST_PROXY)`. `false`, `true`, a hop count, or comma-separated addresses/subnets (e.g. `loopback, 10.0.0.0/8`).",
    parse: trustProxyValue,
  } satisfies VariableSpec<TrustProxy> & { default: TrustProxy },
  BODY_LIMIT: stringVar({
    default: '100kb',
    pattern: /^\d+(b|kb|mb)$/,
    description: 'Largest accepted JSON body; larger ones get 413.',
  }),
  BODY_MAX_DEPTH: integerVar({
    min: 1,
    max: 64,
    default: 64,
    description: 'Deepest nesting of arrays and objects in a JSON body (`{}` is one level); deeper ones get 400.',
  }),
  ATTACHMENT_MAX_BYTES: integerVar({
    min: 1,
    default: DEFAULT_ATTACHMENT_MAX_BYTES,
    description:
      'Largest file `createPortcullis().crudRouter({ attachments })` accepts, in bytes; larger uploads get 413 and leave nothing stored.',
  }),
  ATTACHMENT_TYPES: listVar({
    default: [...DEFAULT_ATTACHMENT_TYPES],
    item(type) {
      if (!MEDIA_RANGE.test(type.toLowerCase()))
        throw new Error(`"${type}" is not a media type, a kind (image/*) or */*`);
    },
    description:
      'Media types of attachments accepted by `createPortcullis().crudRouter({ attachments })`: exact (`application/pdf`), by kind (`image/*`), or `*/*` for any; others get 415.',
  }),
  BATCH_MAX_RECORDS: integerVar({
    min: 1,
    max: 10_000,
    default: 100,
    description:
      'Most records in one `POST /<resource>/batch` of a CRUD router; larger batches get 400 `validation.batch_size` (the whole body also counts against `BODY_LIMIT`).',
  }),
  REQUEST_TIMEOUT: durationVar({
    max: TIMER_MAX_MS,
    default: 60_000,
    min: 1000,
    description:
      'Longest time a client may take to send one whole request, headers and body, to `createPortcullis().listen()`; a slower one (a body trickled a byte at a time) gets 408 and its connection is closed within a second more. Raise it for large attachment uploads over slow links.',
  }),
  HEADERS_TIMEOUT: durationVar({
    max: TIMER_MAX_MS,
    default: 10_000,
    min: 1000,
    description:
      "Longest time a client may take to send a request's headers (at most `REQUEST_TIMEOUT`); a slower one gets 408 and its connection is closed.",
  }),
  MAX_CONNECTIONS: integerVar({
    min: 1,
    default: 1000,
    description:
      "Most connections `createPortcullis().listen()` holds open at once; further ones are closed as they arrive (a warning is logged at most once a minute), so slow clients cannot use up the process's sockets and memory. One client address holds at most `MAX_CONNECTIONS_PER_CLIENT` of them.",
  }),
  MAX_CONNECTIONS_PER_CLIENT: integerVar({
    min: 1,
    description:
      'Most connections open at once from one client address (at most `MAX_CONNECTIONS`; unset: 100, or `MAX_CONNECTIONS` if lower); further ones are closed as they arrive (logged at most once a minute), so one client cannot take them all. `TRUSTED_PROXIES` addresses are exempt: a proxy carries many clients.',
  }),
  IDLE_TIMEOUT: durationVar({
    max: TIMER_MAX_MS,
    default: 30_000,
    min: 1000,
    description:
      'Longest time a connection of `createPortcullis().listen()` may go with nothing read or written while a request is received or answered (a client not reading its answers); it is then closed. Each chunk the client takes in restarts the clock (attachments are sent in chunks, a JSON answer in one). Idle keep-alive connections close after 5 s.',
  }),
  SHUTDOWN_TIMEOUT: durationVar({
    max: TIMER_MAX_MS,
    default: 10_000,
    description:
      'The whole budget of a graceful shutdown: keep-alive connections are drained in the first two thirds, then audit events are flushed and the stores closed.',
  }),
  CURSOR_SECRET: stringVar({
    secret: true,
    minLength: 32,
    description:
      'Secret the CRUD list cursors are encrypted with (AES-256-GCM); the same on every process. Unset: a random one per process, so a cursor works only in the process that made it.',
  }),
  PRIVACY_DEFAULT: enumVar({
    values: [...PRIVACY_LEVELS],
    default: 'secret',
    description:
      'The privacy of a record created without one (and of a stored record without one) in CRUD routers with `privacy`: `secret` is read by its owner alone, `public` by everyone, `invitee` / `member` / `manager` by that level and above of its membership resource.',
  }),
  ADMIN_API_KEY: stringVar({
    secret: true,
    pattern: /^[A-Za-z0-9._~-]{16,256}$/,
    description: 'When set, the demo creates or updates an admin principal whose API key (`X-API-Key`) this is.',
  }),
  ADMIN_ROLE: stringVar({
    default: 'admin',
    pattern: /^[A-Za-z0-9._:-]{1,128}$/,
    description:
      'The `role` attribute of the `ADMIN_API_KEY` principal, so role-based ABAC policies decide for it like for everyone.',
  }),
});
