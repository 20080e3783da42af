import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { isRole } from "../core/auth/roles.ts";
import { isDomainError } from "../core/errors.ts";
import { password_length_max } from "../core/limits.ts";
import { generatePassword } from "../service/auth/password.ts";
import { changeUserRole, createUser, disableUser, listUsers } from "../service/auth/users.ts";
import { systemClock } from "../service/context.ts";
import { openDatabase } from "../store/open.ts";
import { remoteServer, throughServer } from "./remote.ts";

export const usage = `usage:
  clearsplit users create   --tenant T --role R [--party P] [--email E] [--password-stdin]
  clearsplit users list     --tenant T
  clearsplit users set-role --tenant T --id USER --role R [--party P]
  clearsplit users disable  --tenant T --id USER

Console users. Without --password-stdin a password is generated and printed once.
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length > password_length_max * 4) throw new Error("stdin is longer than any password");
  }
  // One trailing newline is the shell's, not the password's.
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(rest).values;
  } catch (error) {
    process.stderr.write(`clearsplit users: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (!["create", "list", "set-role", "disable"].includes(action ?? "") || !values.tenant) {
    process.stderr.write(usage);
    return 2;
  }
  if ((action === "create" || action === "set-role") && (!values.role || !isRole(values.role))) {
    process.stderr.write(`clearsplit users ${action}: --role must be a role\n${usage}`);
    return 2;
  }
  if ((action === "set-role" || action === "disable") && !values.id) {
    process.stderr.write(`clearsplit users ${action}: --id is required\n${usage}`);
    return 2;
  }
  const generated = action === "create" && !values["password-stdin"];
  const password = action !== "create" ? "" : generated ? generatePassword() : await readStdin();
  const remote = await remoteServer();
  if (remote !== null) {
    if (action === "create" && !values.email) {
      process.stderr.write(
        "clearsplit users create: through the server's API a user needs --email (its login)\n",
      );
      return 2;
    }
    return throughServer(`clearsplit users ${action}`, remote, values.tenant, async (client) => {
      if (action === "create") {
        const user = (await client.users.create({
          login: values.email,
          password,
          role: values.role,
          ...(values.party ? { party_id: values.party } : {}),
        })) as { id: string; email: string | null };
        printCreated(user, generated ? password : null);
      } else if (action === "set-role") {
        await client.users.update(values.id!, { role: values.role, party_id: values.party ?? null });
        process.stdout.write(`user ${values.id} is now ${values.role}\n`);
      } else if (action === "disable") {
        await client.users.update(values.id!, { disabled: true });
        process.stdout.write(`disabled ${values.id}\n`);
      } else {
        const users: ListedUser[] = [];
        for await (const user of client.users.list()) users.push(user as ListedUser);
        printUsers(users);
      }
    });
  }
  const audit = { actor: `cli:${userInfo().username}`, ip: null };
  const db = await openDatabase();
  const ctx = { db, now: systemClock };
  const tenant = values.tenant;
  try {
    if (action === "create" && isRole(values.role)) {
      const user = await createUser(
        ctx,
        tenant,
        { role: values.role, party_id: values.party ?? null, email: values.email ?? null, password },
        audit,
      );
      printCreated(user, generated ? password : null);
    } else if (action === "set-role" && isRole(values.role)) {
      await changeUserRole(
        ctx,
        tenant,
        values.id!,
        { role: values.role, party_id: values.party ?? null },
        audit,
      );
      process.stdout.write(`user ${values.id} is now ${values.role}\n`);
    } else if (action === "disable") {
      await disableUser(ctx, tenant, values.id!, audit);
      process.stdout.write(`disabled ${values.id}\n`);
    } else {
      printUsers(await listUsers(db, tenant));
    }
    return 0;
  } catch (error) {
    if (!isDomainError(error)) throw error;
    process.stderr.write(`clearsplit users ${action}: ${error.message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}

interface ListedUser {
  id: string;
  email: string | null;
  role: string;
  party_id: string | null;
  disabled_at: Date | string | null;
}

function printCreated(user: { id: string; email: string | null }, password: string | null): void {
  process.stdout.write(`id:       ${user.id}\nlogin:    ${user.email ?? user.id}\n`);
  if (password !== null) process.stdout.write(`password: ${password}\n(shown once: store it now)\n`);
}

function printUsers(users: ListedUser[]): void {
  for (const user of users)
    process.stdout.write(
      `${user.id}  ${user.role.padEnd(14)} ${(user.party_id ?? "-").padEnd(20)} ${user.disabled_at ? "disabled" : "active  "} ${user.email ?? ""}\n`,
    );
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      tenant: { type: "string" },
      role: { type: "string" },
      party: { type: "string" },
      email: { type: "string" },
      id: { type: "string" },
      "password-stdin": { type: "boolean", default: false },
    },
  });
}
