// Types for the fast-redact peer, which ships none (bench only).
declare module 'fast-redact' {
  interface Options {
    paths: string[];
    censor?: unknown;
    serialize?: boolean | ((value: unknown) => string);
  }
  export default function fastRedact(options: Options): (value: unknown) => unknown;
}
