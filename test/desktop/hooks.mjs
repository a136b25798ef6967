// Module hooks for the stand-in (register.mjs): `electron` resolves to electron.mjs.
const standIn = new URL("./electron.mjs", import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === "electron") return { url: standIn, shortCircuit: true };
  return next(specifier, context);
}
