import { createWriteStream } from "node:fs";

// Writes a WeChat Pay v3 trade bill of N detail rows (every 20th a refund,
// fees with five decimals) and its summary, for the import's memory and
// throughput figures: `node --import tsx src/bench/wechat-bill.ts FILE N`.
const [path, count_text] = process.argv.slice(2);
const count = Number(count_text ?? "1000000");
if (path === undefined || !Number.isInteger(count) || count < 1) {
  process.stderr.write("usage: wechat-bill.ts FILE ROWS\n");
  process.exit(2);
}
const header =
  "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const out = createWriteStream(path);
const write = async (text: string) => {
  if (!out.write(text)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
};
await write(`${header}\r\n`);
let settle_fen = 0n;
let refund_fen = 0n;
let fee_units = 0n; // in 1e-5 yuan
for (let i = 0; i < count; i++) {
  const refund = i % 20 === 19;
  const amount_fen = BigInt(1000 + (i % 9000));
  const fee = (amount_fen * 600n) / 1000n; // 0.6% in 1e-5 yuan units
  const fee_signed = refund ? -fee : fee;
  const yuan = (fen: bigint) => `${fen / 100n}.${String(fen % 100n).padStart(2, "0")}`;
  const fee_text = `${fee_signed < 0n ? "-" : ""}${(fee_signed < 0n ? -fee_signed : fee_signed) / 100000n}.${String((fee_signed < 0n ? -fee_signed : fee_signed) % 100000n).padStart(5, "0")}`;
  const order = `BENCH${String(i).padStart(10, "0")}`;
  const cells = [
    "2026-11-25 10:00:00",
    "wx2421b1c4370ec43b",
    "1900000109",
    "",
    "",
    `42000009252021${String(i).padStart(14, "0")}`,
    order,
    "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    "JSAPI",
    refund ? "REFUND" : "SUCCESS",
    "OTHERS",
    "CNY",
    refund ? "0.00" : yuan(amount_fen),
    "0.00",
    refund ? `5000000${i}` : "0",
    refund ? `R${order}` : "0",
    refund ? yuan(amount_fen) : "0.00",
    "0.00",
    refund ? "ORIGINAL" : "",
    refund ? "SUCCESS" : "",
    "goods",
    "",
    fee_text,
    "0.60%",
    yuan(amount_fen),
    refund ? yuan(amount_fen) : "0.00",
    "",
  ];
  if (refund) refund_fen += amount_fen;
  else settle_fen += amount_fen;
  fee_units += fee_signed;
  await write(`${cells.map((cell) => `\`${cell}`).join(",")}\r\n`);
}
const fee_total = `${fee_units / 100000n}.${String(fee_units % 100000n).padStart(5, "0")}`;
const yuan = (fen: bigint) => `${fen / 100n}.${String(fen % 100n).padStart(2, "0")}`;
await write(
  "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n",
);
await write(
  `${[String(count), yuan(settle_fen), yuan(refund_fen), "0.00", fee_total, yuan(settle_fen + refund_fen), yuan(refund_fen)].map((cell) => `\`${cell}`).join(",")}\r\n`,
);
await new Promise<void>((resolve) => out.end(() => resolve()));
