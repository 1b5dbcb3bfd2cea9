// Lone UTF-16 surrogates in JSON data: JSON.parse accepts "\ud800", but no store, masker or client can treat
// such a string as text (MongoDB refuses it, recognizers and regexes cannot match it).

/**
 * The path (`notes`, `tags[2]`, `address.city`) of a key or string value in `value` that is not well-formed
 * Unicode, or undefined when there is none. Iterative; call it on data already bounded in depth.
 */
export function illFormedPath(value: unknown): string | undefined {
  const pending: [unknown, string][] = [[value, '']];
  while (pending.length > 0) {
    const [item, path] = pending.pop()!;
    if (typeof item === 'string') {
      if (!item.isWellFormed()) return path;
    } else if (Array.isArray(item)) {
      item.forEach((child, index) => pending.push([child, `${path}[${index}]`]));
    } else if (typeof item === 'object' && item !== null && !(item instanceof Date)) {
      for (const key of Object.keys(item)) {
        const childPath = path === '' ? key : `${path}.${key}`;
        if (!key.isWellFormed()) return childPath;
        pending.push([(item as Record<string, unknown>)[key], childPath]);
      }
    }
  }
  return undefined;
}
