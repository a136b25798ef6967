// `node --import ./test/desktop/register.mjs out/main/index.js`: the built main process,
// with `electron` replaced by the stand-in that records what it is asked (electron.mjs).
import { register } from "node:module";

register("./hooks.mjs", import.meta.url);
