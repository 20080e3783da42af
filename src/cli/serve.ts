export async function run(_argv: string[]): Promise<number> {
  process.stderr.write("clearsplit serve: the server is not built yet\n");
  return 1;
}
