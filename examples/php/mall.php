<?php
// A PHP mall (WSTMart-style) talking to ClearSplit: books a paid order with coupons and
// referrers, shows an idempotent replay, records the buyer's receipt (确认收货), refunds a
// line after sale (售后退款), reads the merchant's balance, handles a refused order, and
// verifies a Standard Webhooks delivery.
//
//   CLEARSPLIT_URL=http://127.0.0.1:3000 CLEARSPLIT_KEY=cs_live_… php examples/php/mall.php
//
// Optional: CLEARSPLIT_ORDER_NO (the mall's order number), CLEARSPLIT_MERCHANT (default m-1001),
// CLEARSPLIT_SUPPLIER (default s-01) and CLEARSPLIT_REFERRERS (comma-separated, nearest first;
// default r-104): the defaults are parties of the demo marketplace. CLEARSPLIT_WEBHOOK_SECRET with CLEARSPLIT_WEBHOOK_SAMPLE (a JSON file
// {"headers": {...}, "body": "..."} saved from a delivery) to check a signature.
// Exits 0 when every step succeeded.

declare(strict_types=1);
require __DIR__ . '/clearsplit.php';

$url = getenv('CLEARSPLIT_URL') ?: 'http://127.0.0.1:3000';
$key = getenv('CLEARSPLIT_KEY') ?: '';
if ($key === '') {
    fwrite(STDERR, "set CLEARSPLIT_KEY to an API key with the integration or platform_admin role\n");
    exit(2);
}
$orderNo = getenv('CLEARSPLIT_ORDER_NO') ?: 'WST' . gmdate('YmdHis') . random_int(1000, 9999);
$shop = getenv('CLEARSPLIT_MERCHANT') ?: 'm-1001';
$supplier = getenv('CLEARSPLIT_SUPPLIER') ?: 's-01';
$referrers = array_values(array_filter(explode(',', getenv('CLEARSPLIT_REFERRERS') ?: 'r-104')));
$client = new ClearSplit($url, $key);

// The order as the mall keeps it: decimal prices, discounts per line, coupons by who funds them.
$mallOrder = [
    'orderNo' => $orderNo,
    'payTime' => time() - 60,
    'userId' => 42,
    'shareUserId' => $referrers[0] ?? null,        // the buyer came through this referrer …
    'shareUserParentId' => $referrers[1] ?? null,  // … and this one is its upline, when the mall knows it
    'goods' => [
        ['id' => 1, 'goodsSn' => 'SKU-1', 'catCode' => 'electronics', 'goodsNum' => 2, 'goodsPrice' => '1299.00',
         'shopDiscount' => '50.00', 'supplierId' => $supplier, 'supplierCost' => '990.00'],
        ['id' => 2, 'goodsSn' => 'SKU-7', 'catCode' => 'apparel', 'goodsNum' => 1, 'goodsPrice' => '199.00',
         'shopDiscount' => '0.00', 'supplierId' => null, 'supplierCost' => null],
    ],
    'coupons' => [
        ['code' => 'PLAT10', 'fundedBy' => 'platform', 'money' => '10.00'],
        ['code' => 'SHOP5', 'fundedBy' => 'shop', 'money' => '5.00'],
    ],
    'deliverMoney' => '10.00',
    'realTotalMoney' => '2742.00',
    'tradeNo' => '4200000925' . substr(str_pad((string) crc32($orderNo), 10, '0'), 0, 10) . '12345678',
    'payFeeFen' => 1645,
];

/** The mall's order as ClearSplit's order body: integer minor units, ids as the mall has them. */
function to_clearsplit_order(array $o, string $shop): array
{
    $lines = [];
    foreach ($o['goods'] as $g) {
        $line = [
            'line_id' => (string) $g['id'],
            'sku' => $g['goodsSn'],
            'category' => $g['catCode'],
            'qty' => (int) $g['goodsNum'],
            'unit_price_minor' => to_minor($g['goodsPrice']),
        ];
        $discount = to_minor($g['shopDiscount']);
        if ($discount > 0) $line['merchant_discount_minor'] = $discount;
        if ($g['supplierId'] !== null) {
            $line['supplier_id'] = $g['supplierId'];
            $line['supplier_unit_cost_minor'] = to_minor($g['supplierCost']);
        }
        $lines[] = $line;
    }
    return [
        'id' => $o['orderNo'],
        'currency' => 'CNY',
        'paid_at' => gmdate('Y-m-d\TH:i:s\Z', $o['payTime']),
        'merchant_id' => $shop,
        'buyer_ref' => 'u-' . $o['userId'],
        'referrers' => array_values(array_filter([$o['shareUserId'], $o['shareUserParentId']])),
        'lines' => $lines,
        'coupons' => array_map(fn ($c) => [
            'code' => $c['code'],
            'funded_by' => $c['fundedBy'] === 'shop' ? 'merchant' : 'platform',
            'amount_minor' => to_minor($c['money']),
        ], $o['coupons']),
        'shipping_minor' => to_minor($o['deliverMoney']),
        'paid_minor' => to_minor($o['realTotalMoney']),
        'psp' => ['provider' => 'wechat', 'reference' => $o['tradeNo'], 'fee_minor' => (int) $o['payFeeFen']],
    ];
}

function step(string $name, string $result): void
{
    echo str_pad($name, 10) . $result . "\n";
}

try {
    $order = to_clearsplit_order($mallOrder, $shop);

    // 1. Payment confirmed: book the split. The key is derived from the order number,
    //    so the payment-notify handler can be retried as often as the PSP calls it.
    [$status, $booked] = $client->call('POST', '/v1/orders', $order, 'pay-' . $orderNo);
    $legs = implode(', ', array_map(fn ($l) => "{$l['party_id']} {$l['amount_minor']}", $booked['legs']));
    step('booked', "$orderNo ($status): $legs");
    $sum = array_sum(array_column($booked['legs'], 'amount_minor'));
    if ($sum !== $order['paid_minor']) throw new RuntimeException("legs sum to $sum, paid {$order['paid_minor']}");

    // 2. The notify handler runs again (the PSP retried): same key, same body. The stored answer
    //    comes back (Idempotent-Replayed: true) and nothing is booked twice. Without the key, the
    //    same order id with the same facts is also a replay (200).
    [$status, $again, $headers] = $client->call('POST', '/v1/orders', $order, 'pay-' . $orderNo);
    $replayed = ($headers['idempotent-replayed'] ?? '') === 'true';
    step('replay', "status $status, replayed " . ($replayed ? 'true' : 'false'));
    if (!$replayed || $again['legs'] !== $booked['legs']) throw new RuntimeException('the retried booking was not a replay');
    [$status] = $client->call('POST', '/v1/orders', $order, 'pay-' . $orderNo . '-resent');
    step('resent', "status $status (same order id, same facts: already booked)");
    if ($status !== 200) throw new RuntimeException("the resent order answered $status, not 200");

    // 3. The buyer confirmed receipt (确认收货): the return window starts at that time.
    [$status, $completed] = $client->call('POST', '/v1/orders/' . rawurlencode($orderNo) . '/complete',
        ['completed_at' => gmdate('Y-m-d\TH:i:s\Z')], 'recv-' . $orderNo);
    step('received', "status $status, state {$completed['state']}");

    // 4. After-sale refund (售后退款) of line 2: each party gives back its share of that line.
    [$status, $refunded] = $client->call('POST', '/v1/orders/' . rawurlencode($orderNo) . '/refunds',
        ['refund_id' => "RF-$orderNo-1", 'lines' => [['line_id' => '2', 'qty' => 1]]], "refund-$orderNo-1");
    $back = array_sum(array_map(fn ($l) => abs((int) $l['amount_minor']), $refunded['refund']['reversal']['legs'] ?? []));
    step('refund', "status $status, refund RF-$orderNo-1 reversed $back");

    // 5. The merchant's balances.
    [, $balances] = $client->call('GET', '/v1/parties/' . rawurlencode($shop) . '/balances');
    foreach ($balances['balances'] as $b) {
        step('balance', "$shop {$b['currency']} held {$b['held_minor']} available {$b['available_minor']}");
    }

    // 6. A refused order: problem+json with a stable code and the field at fault. Do not retry
    //    such a call as it is; fix the data.
    $bad = $order;
    $bad['id'] = $orderNo . '-BAD';
    $bad['paid_minor'] = $order['paid_minor'] + 1;
    try {
        $client->call('POST', '/v1/orders', $bad);
        throw new RuntimeException('a wrong paid_minor was accepted');
    } catch (ClearSplitProblem $problem) {
        step('refused', "status {$problem->status}, code {$problem->errorCode}, field {$problem->field}: {$problem->getMessage()}");
        if ($problem->status < 400 || $problem->status >= 500) throw $problem;
    }

    // 7. A webhook delivery saved by the mall's receiver (see examples/php/webhook.php).
    $secret = getenv('CLEARSPLIT_WEBHOOK_SECRET') ?: '';
    $sample = getenv('CLEARSPLIT_WEBHOOK_SAMPLE') ?: '';
    if ($secret !== '' && $sample !== '') {
        $delivery = json_decode((string) file_get_contents($sample), true, 16, JSON_THROW_ON_ERROR);
        $ok = verify_webhook($secret, $delivery['headers'], $delivery['body']);
        step('webhook', $ok ? "signature verified ({$delivery['headers']['webhook-id']})" : 'signature REJECTED');
        if (!$ok) throw new RuntimeException('the webhook signature did not verify');
        $tampered = verify_webhook($secret, $delivery['headers'], $delivery['body'] . ' ');
        if ($tampered) throw new RuntimeException('a tampered webhook body verified');
    } else {
        step('webhook', 'skipped (set CLEARSPLIT_WEBHOOK_SECRET and CLEARSPLIT_WEBHOOK_SAMPLE)');
    }
    echo "ok\n";
    exit(0);
} catch (Throwable $error) {
    fwrite(STDERR, 'mall.php: ' . get_class($error) . ': ' . $error->getMessage() . "\n");
    exit(1);
}
