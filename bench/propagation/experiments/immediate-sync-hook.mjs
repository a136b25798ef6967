// Module hook of immediate-sync.mjs: rewrites automerge-repo's helpers/throttle.js on load.
const TARGET = /\/@automerge\/automerge-repo\/dist\/helpers\/throttle\.js$/;

const IMMEDIATE = `
export const asyncThrottle = (fn, delay) => {
    if (delay > 0) return originalAsyncThrottle(fn, delay);
    let scheduled = false;
    let latestArgs = [];
    let running;
    return async function (...args) {
        latestArgs = args;
        if (scheduled) return;
        scheduled = true;
        setImmediate(async () => {
            if (running) await running.catch(() => undefined);
            scheduled = false;
            running = Promise.resolve(fn(...latestArgs));
            try {
                await running;
            } finally {
                running = undefined;
            }
        });
    };
};
`;

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!TARGET.test(url)) return result;
  const source = String(result.source);
  if (!source.includes("export const asyncThrottle = ")) throw new Error("immediate-sync: asyncThrottle not found in " + url);
  return { ...result, source: source.replace("export const asyncThrottle = ", "const originalAsyncThrottle = ") + IMMEDIATE, shortCircuit: true };
}
