// `relay token ...`: the commands that manage the tokens clients connect with, in the
// data directory's tokens.json, or in the PostgreSQL database of a relay cluster
// (`--storage postgres://…`, or `storage` in the configuration file).
import { Option, type Command } from "commander";
import { relayInviteLink } from "../src/shared/relayInvite";
import { readConfigFile, SettingsError } from "./config";
import { PostgresTokenStore } from "./PostgresTokens";
import { isExpired, parseExpiry, TokenStore, type TokenAccess, type TokenBackend } from "./tokens";

interface WhereOptions {
  data?: string;
  storage?: string;
  config?: string;
}

export function addTokenCommands(program: Command, dataOption: () => Option, requireData: (data: string | undefined) => string, fail: (message: string) => never): void {
  const where = (command: Command) =>
    command
      .addOption(dataOption())
      .addOption(new Option("--storage <where>", 'a relay cluster\'s database, postgres://…: its tokens are there (default "files": the data directory)').env("RELAY_STORAGE"))
      .addOption(new Option("--config <file>", "take --data and --storage from the relay's configuration file").env("RELAY_CONFIG"));
  /** The tokens the options name: the cluster's database, or the data directory. */
  const open = async (options: WhereOptions): Promise<TokenBackend> => {
    let { data, storage } = options;
    if (options.config) {
      try {
        const file = readConfigFile(options.config);
        data ??= file.data as string | undefined;
        storage ??= file.storage as string | undefined;
      } catch (error) {
        if (error instanceof SettingsError) fail(error.message);
        throw error;
      }
    }
    if (storage && storage !== "files") {
      if (!/^postgres(ql)?:\/\//.test(storage)) fail(`--storage is "files" or a postgres:// URL: ${JSON.stringify(storage)}`);
      try {
        return await PostgresTokenStore.open(storage);
      } catch (error) {
        fail(`cannot reach the cluster's database: ${(error as Error).message}`);
      }
    }
    return new TokenStore(requireData(data));
  };
  const run = async <T>(options: WhereOptions, task: (store: TokenBackend) => Promise<T>): Promise<T> => {
    const store = await open(options);
    try {
      return await task(store);
    } finally {
      await store.close?.();
    }
  };
  const accessOf = (options: { readOnly?: boolean; relay?: boolean }): TokenAccess => {
    if (options.readOnly && options.relay) fail("--read-only and --relay exclude each other");
    return options.readOnly ? "read-only" : options.relay ? "relay" : "full";
  };
  /**
   * The invite link for `--url` and `token`, made by the module the app reads invites
   * with (src/shared/relayInvite.ts), so that what one makes the other reads. The token
   * goes in the link's fragment: a browser never sends it, so it is in no server's log.
   */
  const inviteLink = (publicUrl: string, token: string): string => {
    try {
      return relayInviteLink(publicUrl, token);
    } catch (error) {
      if (error instanceof RangeError) fail(`--url: ${error.message}`);
      throw error;
    }
  };
  const expiryOf = (text: string | undefined) => (text === undefined ? undefined : parseExpiry(text));
  const expiryText = (expiresAt: Date | undefined) => (expiresAt ? `, until ${expiresAt.toISOString().slice(0, 16).replace("T", " ")} UTC` : "");

  const token = program.command("token").description("manage the tokens clients connect with");
  where(
    token
      .command("add <name>")
      .description("create a token and print it (once: only its hash is kept)")
      .option("--read-only", "the token can fetch and follow documents but not change them")
      .option("--relay", "for another relay that peers with this one: it is sent every document")
      .option("--expires <when>", "the token stops working after 90d, 12h, 2w, or on a date (2027-03-31)"),
  ).action(async (name: string, options: WhereOptions & { readOnly?: boolean; relay?: boolean; expires?: string }) => {
    const access = accessOf(options);
    const expiresAt = expiryOf(options.expires);
    const value = await run(options, (store) => store.add(name, access, expiresAt));
    process.stdout.write(`Token "${name}" (${access}${expiryText(expiresAt)}):\n\n${value}\n\nIt is shown only now; the relay keeps only its hash.\n`);
  });
  where(
    token
      .command("invite <name>")
      .description("create a token for a writer and print one invite link (the relay's address and the token) that Writer's \"Add a relay\" takes in one paste")
      .addOption(new Option("--url <address>", "the relay's address as writers reach it, e.g. wss://relay.example.org").env("RELAY_PUBLIC_URL"))
      .option("--read-only", "the token can fetch and follow documents but not change them")
      .option("--expires <when>", "the token stops working after 90d, 12h, 2w, or on a date (2027-03-31)"),
  ).action(async (name: string, options: WhereOptions & { url?: string; readOnly?: boolean; expires?: string }) => {
    if (!options.url) fail("the relay's public address is required: --url wss://relay.example.org or RELAY_PUBLIC_URL");
    // A bad address fails before a token is made (with one shaped like a token, not one).
    inviteLink(options.url, "A".repeat(43));
    const access = accessOf(options);
    const expiresAt = expiryOf(options.expires);
    const value = await run(options, (store) => store.add(name, access, expiresAt));
    process.stdout.write(
      `Invite for "${name}" (${access}${expiryText(expiresAt)}). Send it to them privately; they paste it into Writer: Settings, Add a relay.\n\n${inviteLink(options.url, value)}\n\n` +
        `It holds the token, which is shown only now; the relay keeps only its hash.\n`,
    );
  });
  where(token.command("list").description("list tokens (name, access, created, expires, last used; never the tokens)")).action(async (options: WhereOptions) => {
    const [records, lastUsed] = await run(options, async (store) => [await store.list(), await store.lastUsed()] as const);
    if (records.length === 0) return void console.log("no tokens");
    const day = (iso: string | undefined) => (iso ? iso.slice(0, 16).replace("T", " ") : "");
    const rows = [["NAME", "ACCESS", "CREATED", "EXPIRES", "LAST USED"]];
    for (const r of records) rows.push([r.name, r.access, day(r.createdAt), r.expiresAt ? `${day(r.expiresAt)}${isExpired(r) ? " (expired)" : ""}` : "never", day(lastUsed[r.name]) || "never"]);
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
    for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  });
  where(token.command("revoke <name>").description("revoke a token; running relays close its connections within seconds")).action(async (name: string, options: WhereOptions) => {
    if (!(await run(options, (store) => store.revoke(name)))) fail(`no token named "${name}"`);
    console.log(`revoked "${name}"`);
  });
}
