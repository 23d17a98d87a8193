// What the suite does not run on Bun and Deno (scripts/test-runtime.mjs): whole files, and
// single tests by their full name ("describe > it"), each with why and the runtime's issue
// behind it. The README's "Runtime support" section lists the same.
export const gaps = {
  bun: { files: {}, tests: {} },
  deno: { files: {}, tests: {} },
};
