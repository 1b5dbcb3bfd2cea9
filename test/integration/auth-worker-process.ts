// Starts test/integration/auth-worker.ts as a real second process and returns its base URL.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Worker {
  url: string;
  stop(): Promise<void>;
}

export async function startWorker(prefix: string, env: Record<string, string> = {}): Promise<Worker> {
  const script = fileURLToPath(new URL('./auth-worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, AUTH_TEST_PREFIX: prefix, AUTH_TEST_ENV: JSON.stringify(env) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.includes('\n')) resolve(buffered.trim());
    });
    child.once('exit', (code) => reject(new Error(`auth worker exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await exited;
    },
  };
}
