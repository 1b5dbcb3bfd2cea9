// The PII_* variables and PSEUDONYM_KEY do what the README's configuration table says, in the demo.
import { expect } from 'chai';
import request from 'supertest';
import { startDemoApp, type DemoApp } from '../../support/demo-app.js';

interface Account {
  name: string;
  email: string;
  phone: string;
  notes: string;
}

// acc_0001 is German (the analyst may read it) and its seeded notes hold a phone number and an email address.
async function account(demo: DemoApp, role: 'analyst' | 'admin' = 'analyst'): Promise<Account> {
  return (await request(demo.app).get('/accounts/acc_0001').set(demo.headers[role]).expect(200)).body as Account;
}

describe('demo: PII variables', function () {
  this.timeout(30_000);
  const running: DemoApp[] = [];
  async function demoWith(env: Record<string, string>): Promise<DemoApp> {
    const demo = await startDemoApp('memory', env);
    running.push(demo);
    return demo;
  }
  afterEach(async function () {
    for (const demo of running.splice(0)) await demo.close();
  });

  it('PII_MASK_PATHS masks a further field in responses', async function () {
    const plain = await account(await demoWith({}));
    expect(plain.name).to.not.match(/^X+$/);
    const masked = await account(await demoWith({ PII_MASK_PATHS: 'name' }));
    expect(masked.name).to.match(/^X+$/);
  });

  it('PII_RECOGNIZERS chooses what free text is scanned for', async function () {
    const all = await account(await demoWith({}));
    const emailOnly = await account(await demoWith({ PII_RECOGNIZERS: 'email' }));
    expect(all.notes).to.not.match(/\+\d{2} \d/);
    expect(emailOnly.notes).to.match(/\+\d{2} \d/);
    expect(emailOnly.notes).to.not.match(/@mail\.example\.org/);
  });

  it('PII_MASK_STRATEGY and PSEUDONYM_KEY change how recognized values look', async function () {
    const removed = await account(await demoWith({ PII_MASK_STRATEGY: 'remove' }));
    expect(removed.notes).to.not.match(/X{6}/);
    const key = 'pseudonym-key-for-the-test-0123456789';
    const first = await account(await demoWith({ PII_MASK_STRATEGY: 'pseudonym', PSEUDONYM_KEY: key }));
    const second = await account(await demoWith({ PII_MASK_STRATEGY: 'pseudonym', PSEUDONYM_KEY: key }));
    expect(first.notes).to.not.match(/X{6}/);
    expect(first.notes).to.equal(second.notes);
  });

  it('PII_UNMASK_GROUPS shows members everything in clear', async function () {
    const masked = await account(await demoWith({}));
    expect(masked.email).to.match(/^[a-z]XXX@example\.com$/);
    const clear = await account(await demoWith({ PII_UNMASK_GROUPS: 'analysts' }));
    expect(clear.email).to.match(/^[a-z]+\.[a-z]+\d*@example\.com$/);
    expect(clear.notes).to.equal((await account(running[1]!, 'admin')).notes);
  });
});
