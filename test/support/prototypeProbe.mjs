// Loaded into a process under test (`node --import <this file> …`): on SIGUSR2 it prints
// what was added to the built-in prototypes since it loaded, and whether a plain object
// now inherits a `polluted` property, so that a test checks that process for prototype
// pollution rather than its own.
const watched = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype };
const before = Object.fromEntries(Object.entries(watched).map(([name, proto]) => [name, new Set(Reflect.ownKeys(proto).map(String))]));

process.on("SIGUSR2", () => {
  const added = {};
  for (const [name, proto] of Object.entries(watched)) {
    const extra = Reflect.ownKeys(proto).map(String).filter((key) => !before[name].has(key));
    if (extra.length > 0) added[name] = extra;
  }
  process.stderr.write(`PROTOTYPES ${JSON.stringify({ added, polluted: {}.polluted ?? null })}\n`);
});
