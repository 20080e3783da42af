<?php
// Verifies a ClearSplit webhook (Standard Webhooks) without a library.
// Returns the decoded message, or throws. docs/notifications.md explains each step.
function clearsplit_verify(string $secret, string $body, array $headers, int $tolerance = 300, ?int $now = null): array {
    $id = $headers['webhook-id'] ?? '';
    $timestamp = $headers['webhook-timestamp'] ?? '';
    $signatures = $headers['webhook-signature'] ?? '';
    $now = $now ?? time();
    if (!ctype_digit($timestamp) || abs($now - (int) $timestamp) > $tolerance) {
        throw new RuntimeException('stale or missing webhook-timestamp');
    }
    $key = base64_decode(substr($secret, strlen('whsec_')), true);
    if ($key === false) {
        throw new RuntimeException('the secret is not whsec_<base64>');
    }
    $expected = base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $key, true));
    foreach (explode(' ', $signatures) as $candidate) {
        [$version, $signature] = array_pad(explode(',', $candidate, 2), 2, '');
        if ($version === 'v1' && hash_equals($expected, $signature)) {
            return json_decode($body, true, 512, JSON_THROW_ON_ERROR);
        }
    }
    throw new RuntimeException('no valid signature');
}
