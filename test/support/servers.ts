// Starts throwaway MongoDB-compatible and Redis servers on free ports, with data dirs removed on stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface ServerHandle {
  readonly kind: 'mongodb' | 'redis' | 'redis-cluster' | 'redis-sentinel';
  readonly url: string;
  readonly port: number;
  /** What runs, e.g. `FerretDB v1.24.2 (SQLite)`, so the test log shows the servers were real. */
  readonly description: string;
  /** Stops the process; with `keepData` the data dir stays so `start()` resumes it on the same port. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Starts it again on the same port and data dir (after `stop({ keepData: true })`). */
  start(): Promise<void>;
  /** Freezes the server process (SIGSTOP): connections stay open and nothing answers, as on a hung host. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
  /** The server process's id (of one server; not on a cluster's handle): to read its CPU time. */
  pid?(): number;
}

const INSTALL_HINT = {
  redis: 'install it with: apt-get install -y redis-server (or run scripts/setup.sh)',
  redisCli: "it comes with Debian's redis-server package (redis-tools): apt-get install -y redis-server",
  mongodb:
    'install FerretDB with: go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2 (or run scripts/setup.sh)',
};

export function findBinary(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function goBinDirs(): string[] {
  return [
    process.env.GOBIN,
    process.env.GOPATH && join(process.env.GOPATH, 'bin'),
    join(homedir(), 'go', 'bin'),
  ].filter((dir): dir is string => Boolean(dir));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with code ${child.exitCode} before accepting connections`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not accept connections on port ${port} within ${timeoutMs}ms`);
}

// The server runs under a small shell guard reading our stdin: when this process dies for any reason
// (even SIGKILL) the pipe closes, the guard kills the server and deletes its data dir.
const GUARD = `
"$@" >"$PORTCULLIS_LOG" 2>&1 &
pid=$!
echo "$pid" >"$PORTCULLIS_DATA.pid"
read -r word
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ "$word" = keep ] || rm -rf "$PORTCULLIS_DATA"
`;

function launch(command: string, args: string[], dataDir: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn('sh', ['-c', GUARD, 'guard', command, ...args], {
    stdio: ['pipe', 'ignore', 'ignore'],
    env: {
      ...process.env,
      ...env,
      PORTCULLIS_DATA: dataDir,
      PORTCULLIS_LOG: join(dataDir, '..', `${process.pid}-${Date.now()}.log`),
    },
  });
  child.unref();
  (child.stdin as NodeJS.WritableStream & { unref?: () => void }).on('error', () => undefined);
  return child;
}

async function managed(
  kind: ServerHandle['kind'],
  description: string,
  port: number,
  url: string,
  command: string,
  args: string[],
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ServerHandle> {
  let child: ChildProcess | undefined;
  const start = async () => {
    child = launch(command, args, dataDir, env);
    await waitForPort(port, child, 30_000, description);
  };
  const stop = async (options: { keepData?: boolean } = {}) => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    // The guard is unref'd so it never holds a run open; while we wait for it to exit, it must, or a
    // script with nothing else pending would end with "unsettled top-level await" (exit 13).
    current.ref();
    current.stdin?.end(options.keepData ? 'keep\n' : 'delete\n');
    await exited;
  };
  const pid = () => Number(readFileSync(`${dataDir}.pid`, 'utf8').trim());
  const signal = (name: 'SIGSTOP' | 'SIGCONT') => {
    process.kill(pid(), name);
    // A stop signal takes effect when each of the server's threads next runs; on a loaded machine a thread
    // was seen answering requests sent 10 ms after kill() returned. Tests must freeze a server, not race it.
    if (name === 'SIGSTOP') waitUntilStopped(pid());
  };
  await start();
  return {
    kind,
    url,
    port,
    description,
    stop,
    start,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    pid,
  };
}

/** Blocks until every thread of `pid` is stopped (state T in /proc; Linux only, elsewhere returns at once). */
function waitUntilStopped(pid: number, timeoutMs = 5000): void {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (!readdirSync(tasks).every((tid) => threadState(pid, tid) === 'T')) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop within ${timeoutMs} ms of SIGSTOP`);
    Atomics.wait(pause, 0, 0, 2);
  }
}

function threadState(pid: number, tid: string): string | undefined {
  try {
    // The state is the field after the command name, which is in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return 'T'; // a thread that ended while we looked no longer runs
  }
}

function versionOf(binary: string, args: string[]): string {
  const result = spawnSync(binary, args, { encoding: 'utf8', timeout: 10_000 });
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  return /v?\d+\.\d+\.\d+/.exec(text)?.[0] ?? 'unknown version';
}

/** Starts `mongod` when on PATH, else FerretDB v1 on SQLite; fails at once naming the install command. */
export async function startMongoServer(): Promise<ServerHandle> {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-mongo-'));
  const dataDir = join(root, 'data');
  const port = await freePort();
  const url = `mongodb://127.0.0.1:${port}/portcullis_test`;
  const mongod = findBinary('mongod');
  if (mongod) {
    const args = ['--dbpath', dataDir, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet'];
    spawnSync('mkdir', ['-p', dataDir]);
    return managed('mongodb', `mongod ${versionOf(mongod, ['--version'])}`, port, url, mongod, args, dataDir);
  }
  const ferretdb = findBinary('ferretdb', goBinDirs());
  if (!ferretdb) throw new Error(`Neither mongod nor ferretdb was found; ${INSTALL_HINT.mongodb}`);
  spawnSync('mkdir', ['-p', dataDir]);
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${dataDir}/`,
    `--state-dir=${dataDir}`,
    `--listen-addr=127.0.0.1:${port}`,
    '--debug-addr=-',
    '--telemetry=disable',
    '--log-level=error',
    // One SQLite transaction per insert of up to 1 000 documents instead of one per 100: about 1.5x the
    // insert rate for batched audit writes (bench/audit-throughput.ts). A FerretDB v1 server setting.
    '--test-batch-size=1000',
  ];
  const description = `FerretDB ${versionOf(ferretdb, ['--version'])} (SQLite backend)`;
  // Go's garbage collector at GOGC=400 instead of 100: about 15% less server CPU per inserted audit event
  // for a few more MB of heap (bench/audit-throughput.ts). A FerretDB process setting.
  return managed('mongodb', description, port, url, ferretdb, args, dataDir, { GOGC: '400' });
}

export async function startRedisServer(): Promise<ServerHandle> {
  const redis = findBinary('redis-server', ['/usr/sbin', '/usr/local/bin']);
  if (!redis) throw new Error(`redis-server was not found; ${INSTALL_HINT.redis}`);
  const root = mkdtempSync(join(tmpdir(), 'portcullis-redis-'));
  const dataDir = join(root, 'data');
  spawnSync('mkdir', ['-p', dataDir]);
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', '--appendonly', 'no'];
  return managed(
    'redis',
    `redis-server ${versionOf(redis, ['--version'])}`,
    port,
    `redis://127.0.0.1:${port}`,
    redis,
    args,
    dataDir,
  );
}

export interface RedisClusterHandle extends ServerHandle {
  /** `redis://127.0.0.1:<port>` of each master, in the order of their slot ranges. */
  readonly nodes: readonly string[];
  /** Each master's own process, in the same order: to freeze or stop one of them. */
  readonly masters: readonly ServerHandle[];
}

/**
 * A Redis Cluster of three masters (no replicas) on free ports, made with `redis-cli --cluster create`,
 * so the Redis stores are also tested with their keys spread over several servers. Fails naming what
 * is missing or what the cluster answered; never skips.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const redis = findBinary('redis-server', ['/usr/sbin', '/usr/local/bin']);
  if (!redis) throw new Error(`redis-server was not found; ${INSTALL_HINT.redis}`);
  const cli = findBinary('redis-cli', ['/usr/bin', '/usr/local/bin']);
  if (!cli)
    throw new Error(`redis-cli was not found (needed to create the test Redis Cluster); ${INSTALL_HINT.redisCli}`);
  const root = mkdtempSync(join(tmpdir(), 'portcullis-redis-cluster-'));
  const nodes: ServerHandle[] = [];
  const stopAll = async (options?: { keepData?: boolean }) => {
    await Promise.all(nodes.map((node) => node.stop(options)));
  };
  try {
    for (let index = 0; index < masters; index += 1) {
      const dataDir = join(root, `node${index}`);
      spawnSync('mkdir', ['-p', dataDir]);
      const port = await freeClusterPort();
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dataDir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '2000',
      ];
      const url = `redis://127.0.0.1:${port}`;
      nodes.push(await managed('redis', `redis-server (cluster node)`, port, url, redis, args, dataDir));
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    const created = spawnSync(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (created.status !== 0) {
      const output = `${created.stdout ?? ''}${created.stderr ?? ''}`.trim();
      throw new Error(
        `redis-cli --cluster create failed (exit ${created.status}): ${output.split('\n').slice(-5).join(' | ')}`,
      );
    }
    await waitForClusterOk(
      cli,
      nodes.map((node) => node.port),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  const version = versionOf(redis, ['--version']);
  return {
    kind: 'redis-cluster',
    url: nodes[0]!.url,
    port: nodes[0]!.port,
    nodes: nodes.map((node) => node.url),
    masters: nodes,
    description: `Redis Cluster of ${masters} masters (redis-server ${version})`,
    stop: stopAll,
    start: async () => {
      for (const node of nodes) await node.start();
    },
    pause: () => nodes.forEach((node) => node.pause()),
    resume: () => nodes.forEach((node) => node.resume()),
  };
}

// A cluster node also listens on its port + 10000 (the cluster bus): both must be free and below 65536.
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await freePort();
    if (port + 10_000 <= 65_535 && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error('found no free port pair (port, port + 10000) for a Redis Cluster node');
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// Every node must report the whole slot map assigned before the stores can use the cluster.
async function waitForClusterOk(cli: string, ports: number[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const states = ports.map((port) => {
      const info = spawnSync(cli, ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8', timeout: 5000 });
      return /cluster_state:(\w+)/.exec(info.stdout ?? '')?.[1] ?? 'unknown';
    });
    if (states.every((state) => state === 'ok')) return;
    last = states.join(', ');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the test Redis Cluster did not reach cluster_state:ok within ${timeoutMs}ms (states: ${last})`);
}

export interface RedisSentinelHandle {
  /** The master group the sentinel monitors. */
  readonly name: string;
  /** `127.0.0.1:<port>` of the sentinel, as REDIS_SENTINELS takes it. */
  readonly sentinels: string;
  /** The password of the master, the replica and the sentinel (all three ask for it). */
  readonly password: string;
  /** The first master, and its replica (the new master after a failover). */
  readonly master: ServerHandle;
  readonly replica: ServerHandle;
  readonly sentinel: ServerHandle;
  readonly description: string;
  /** The port of the master the sentinel names now. */
  currentMasterPort(): number;
  stop(): Promise<void>;
}

/**
 * A master, one replica in sync with it, and one `redis-server --sentinel` monitoring them (quorum 1, down
 * after 1 s), all on free ports and asking for one password. The replica starts before the sentinel so the
 * sentinel knows it from its first INFO, and can fail over at once. Fails naming what is missing; never skips.
 */
export async function startRedisSentinel(name = 'portcullis-test'): Promise<RedisSentinelHandle> {
  const redis = findBinary('redis-server', ['/usr/sbin', '/usr/local/bin']);
  if (!redis) throw new Error(`redis-server was not found; ${INSTALL_HINT.redis}`);
  const cli = findBinary('redis-cli', ['/usr/bin', '/usr/local/bin']);
  if (!cli) throw new Error(`redis-cli was not found (needed to set up the test Sentinel); ${INSTALL_HINT.redisCli}`);
  const version = versionOf(redis, ['--version']);
  const password = `pw-${process.pid}-${Date.now()}`;
  const root = mkdtempSync(join(tmpdir(), 'portcullis-redis-sentinel-'));
  const started: ServerHandle[] = [];
  const dirFor = (node: string) => {
    const dir = join(root, node);
    spawnSync('mkdir', ['-p', dir]);
    return dir;
  };
  const server = async (node: string, extra: string[]) => {
    const dir = dirFor(node);
    const port = await freePort();
    // The password reaches the server on its command line: a throwaway test password only.
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
    args.push('--requirepass', password, '--masterauth', password, ...extra);
    const handle = await managed(
      'redis',
      `redis-server ${version} (${node})`,
      port,
      `redis://127.0.0.1:${port}`,
      redis,
      args,
      dir,
    );
    started.push(handle);
    return handle;
  };
  const ask = (port: number, ...command: string[]) => {
    const result = spawnSync(cli, ['-p', String(port), '-a', password, '--no-auth-warning', ...command], {
      encoding: 'utf8',
      timeout: 5000,
    });
    return `${result.stdout ?? ''}`;
  };
  try {
    const master = await server('master', []);
    const replica = await server('replica', ['--replicaof', '127.0.0.1', String(master.port)]);
    await until(() => /master_link_status:up/.test(ask(replica.port, 'info', 'replication')), 'the replica to sync');
    const dir = dirFor('sentinel');
    const port = await freePort();
    // Sentinel rewrites its configuration file, so it lives in the sentinel's own (removed) data dir.
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `requirepass ${password}`,
        `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
        `sentinel auth-pass ${name} ${password}`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const sentinel = await managed(
      'redis-sentinel',
      `redis-server ${version} --sentinel`,
      port,
      `redis://127.0.0.1:${port}`,
      redis,
      [conf, '--sentinel'],
      dir,
    );
    started.push(sentinel);
    const currentMasterPort = () =>
      Number(ask(port, 'sentinel', 'get-master-addr-by-name', name).trim().split('\n')[1]);
    await until(
      () =>
        currentMasterPort() === master.port &&
        /\bslave0:.*state=online/.test(ask(master.port, 'info', 'replication')) &&
        ask(port, 'sentinel', 'replicas', name).includes(String(replica.port)),
      'the sentinel to know the master and its replica',
    );
    return {
      name,
      sentinels: `127.0.0.1:${port}`,
      password,
      master,
      replica,
      sentinel,
      description: `Redis Sentinel (redis-server ${version}: master, replica, one sentinel)`,
      currentMasterPort,
      stop: async () => {
        for (const handle of started.splice(0).reverse()) await handle.stop();
      },
    };
  } catch (error) {
    for (const handle of started.splice(0).reverse()) await handle.stop();
    throw error;
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
