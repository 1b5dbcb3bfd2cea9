// Starts the demo with `npm start` as a separate process and waits for the line that says where it listens.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface DemoProcess {
  baseUrl: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<number | null>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

export function runDemo(env: Record<string, string>): ChildProcess {
  return spawn('npm', ['start', '--silent'], {
    cwd: root,
    env: { ...process.env, MONGODB_URI: '', REDIS_URL: '', LOG_LEVEL: 'warn', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

export async function startDemo(env: Record<string, string> = {}, timeoutMs = 60_000): Promise<DemoProcess> {
  const child = runDemo(env);
  let output = '';
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start in time:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code}:\n${output}`));
    });
  });
  return {
    baseUrl,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // npm start runs the demo in a child of npm; signal the demo itself (its pid is in /health) so npm
      // reports the demo's own exit status, and fall back to the whole process group.
      try {
        const health = (await (await fetch(`${baseUrl}/health`)).json()) as { process?: { pid?: number } };
        process.kill(health.process!.pid!, 'SIGTERM');
      } catch {
        process.kill(-child.pid!, 'SIGTERM');
      }
      return exited;
    },
  };
}

/** Logs a demo user in (the analyst by default) and returns the session's JWT; any answer but 201 throws. */
export async function demoLogin(
  baseUrl: string,
  username = 'ana',
  password = 'analyst-demo-password',
): Promise<string> {
  const login = await fetch(`${baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (login.status !== 201) throw new Error(`login of ${username} answered ${login.status}: ${await login.text()}`);
  return ((await login.json()) as { token: string }).token;
}
