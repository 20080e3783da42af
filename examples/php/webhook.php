<?php
// The mall's webhook receiver: answers 204 to a delivery whose Standard Webhooks signature
// verifies, 400 otherwise. Deliveries are at least once: handle each webhook-id once.
//
//   CLEARSPLIT_WEBHOOK_SECRET=whsec_… php -S 127.0.0.1:8080 examples/php/webhook.php

declare(strict_types=1);
require __DIR__ . '/clearsplit.php';

$secret = getenv('CLEARSPLIT_WEBHOOK_SECRET') ?: '';
$body = (string) file_get_contents('php://input');
$headers = [
    'webhook-id' => $_SERVER['HTTP_WEBHOOK_ID'] ?? '',
    'webhook-timestamp' => $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '',
    'webhook-signature' => $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '',
];
if ($_SERVER['REQUEST_METHOD'] !== 'POST' || $secret === '' || !verify_webhook($secret, $headers, $body)) {
    http_response_code(400);
    header('Content-Type: text/plain');
    echo "signature rejected\n";
    return;
}
$event = json_decode($body, true);
// A real mall would now mark $headers['webhook-id'] as handled and act on $event['type'].
error_log('clearsplit webhook ' . $headers['webhook-id'] . ' ' . ($event['type'] ?? '?'));
http_response_code(204);
