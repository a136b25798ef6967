/**
 * A vitest setup file: runs for every test file, before it. Registers the support
 * modules' cleanups (fileEnd.ts) as this file's own hooks. Registered before the test
 * file's hooks, they run after them (vitest runs after-hooks in reverse order).
 */
import { afterAll, afterEach } from "vitest";
import { runAfterFile, runAfterTest } from "./fileEnd";

afterEach(runAfterTest);
afterAll(runAfterFile);
