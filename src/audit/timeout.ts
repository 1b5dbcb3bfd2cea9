// A promise deadline for store calls: a slow sink counts as a failed one.

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms}ms`)), ms);
  });
  // The losing promise may still reject later; nobody waits for it any more.
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
