// `relay token ...`: the commands that manage the tokens clients connect with.
import type { Command, Option } from "commander";
import { TokenStore, type TokenAccess } from "./tokens";

export function addTokenCommands(program: Command, dataOption: () => Option, requireData: (data: string | undefined) => string, fail: (message: string) => never): void {
  const token = program.command("token").description("manage the tokens clients connect with");
  token
    .command("add <name>")
    .description("create a token and print it (once: only its hash is kept)")
    .option("--read-only", "the token can fetch and follow documents but not change them")
    .option("--relay", "for another relay that peers with this one: it is sent every document")
    .addOption(dataOption())
    .action(async (name: string, options: { readOnly?: boolean; relay?: boolean; data?: string }) => {
      if (options.readOnly && options.relay) fail("--read-only and --relay exclude each other");
      const access: TokenAccess = options.readOnly ? "read-only" : options.relay ? "relay" : "full";
      const value = await new TokenStore(requireData(options.data)).add(name, access);
      process.stdout.write(`Token "${name}" (${access}):\n\n${value}\n\nIt is shown only now; the relay keeps only its hash.\n`);
    });
  token
    .command("list")
    .description("list tokens (names, access, creation date; never the tokens)")
    .addOption(dataOption())
    .action(async (options: { data?: string }) => {
      const records = await new TokenStore(requireData(options.data)).list();
      if (records.length === 0) console.log("no tokens");
      for (const r of records) console.log(`${r.name}\t${r.access}\t${r.createdAt}`);
    });
  token
    .command("revoke <name>")
    .description("revoke a token; a running relay closes its connections within seconds")
    .addOption(dataOption())
    .action(async (name: string, options: { data?: string }) => {
      if (!(await new TokenStore(requireData(options.data)).revoke(name))) fail(`no token named "${name}"`);
      console.log(`revoked "${name}"`);
    });
}
