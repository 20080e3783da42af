<?php
// A small ClearSplit client for a PHP mall: plain PHP 8 with the curl extension,
// no framework. See docs/integration.md for the mapping of mall events to calls.

declare(strict_types=1);

final class ClearSplitProblem extends RuntimeException
{
    public function __construct(
        public readonly int $status,
        public readonly string $errorCode,
        public readonly ?string $field,
        string $detail,
        public readonly array $problem = [],
    ) {
        parent::__construct($detail);
    }
}

final class ClearSplit
{
    private const ATTEMPTS_MAX = 4;

    public function __construct(private string $baseUrl, private string $apiKey, private int $timeoutSeconds = 10)
    {
        $this->baseUrl = rtrim($baseUrl, '/');
    }

    /**
     * Sends one call. Writes carry an Idempotency-Key that stays the same on every retry,
     * so a timeout can be retried without booking twice. Returns [status, body, headers].
     */
    public function call(string $method, string $path, ?array $body = null, ?string $idempotencyKey = null): array
    {
        $payload = $body === null ? null : json_encode($body, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        $headers = ['Authorization: Bearer ' . $this->apiKey, 'Accept: application/json'];
        if ($payload !== null) $headers[] = 'Content-Type: application/json';
        if ($method !== 'GET') $headers[] = 'Idempotency-Key: ' . ($idempotencyKey ?? self::newKey());
        for ($attempt = 1; ; $attempt++) {
            [$status, $text, $responseHeaders] = $this->send($method, $path, $payload, $headers);
            // Retry only what is safe: no answer, or 429/503, and always with the same key.
            $retryable = $status === 0 || $status === 429 || $status === 503;
            if (!$retryable || $attempt >= self::ATTEMPTS_MAX) break;
            $wait = isset($responseHeaders['retry-after']) && ctype_digit($responseHeaders['retry-after'])
                ? (int) $responseHeaders['retry-after'] : (2 ** $attempt) / 4;
            usleep((int) (min($wait, 10) * 1_000_000));
        }
        $decoded = $text === '' ? null : json_decode($text, true);
        if ($status === 0) throw new ClearSplitProblem(0, 'network_error', null, "ClearSplit unreachable: $text");
        if ($status >= 400) {
            $problem = is_array($decoded) ? $decoded : [];
            throw new ClearSplitProblem(
                $status,
                (string) ($problem['code'] ?? "http_$status"),
                isset($problem['field']) ? (string) $problem['field'] : null,
                (string) ($problem['detail'] ?? $problem['title'] ?? $text),
                $problem,
            );
        }
        return [$status, $decoded, $responseHeaders];
    }

    private function send(string $method, string $path, ?string $payload, array $headers): array
    {
        $responseHeaders = [];
        $ch = curl_init($this->baseUrl . $path);
        curl_setopt_array($ch, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => $this->timeoutSeconds,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_HEADERFUNCTION => function ($ch, string $line) use (&$responseHeaders): int {
                $parts = explode(':', $line, 2);
                if (count($parts) === 2) $responseHeaders[strtolower(trim($parts[0]))] = trim($parts[1]);
                return strlen($line);
            },
        ]);
        if ($payload !== null) curl_setopt($ch, CURLOPT_POSTFIELDS, $payload);
        $text = curl_exec($ch);
        $status = (int) curl_getinfo($ch, CURLINFO_HTTP_CODE);
        $error = curl_error($ch);
        curl_close($ch);
        return [$text === false ? 0 : $status, $text === false ? $error : (string) $text, $responseHeaders];
    }

    public static function newKey(): string
    {
        return bin2hex(random_bytes(16));
    }
}

/**
 * A decimal amount as the mall stores it ("1299.00") to integer minor units (129900),
 * by string arithmetic: floats would turn 0.29 * 100 into 28.999999999999996.
 */
function to_minor(string $decimal, int $exponent = 2): int
{
    if (!preg_match('/^(-?)(\d{1,15})(?:\.(\d+))?$/', trim($decimal), $m)) {
        throw new InvalidArgumentException("not a decimal amount: '$decimal'");
    }
    $fraction = $m[3] ?? '';
    if (strlen($fraction) > $exponent && rtrim(substr($fraction, $exponent), '0') !== '') {
        throw new InvalidArgumentException("'$decimal' has more decimals than the currency's $exponent");
    }
    $digits = ltrim($m[2] . str_pad(substr($fraction, 0, $exponent), $exponent, '0'), '0');
    if (strlen($digits) > 15) throw new InvalidArgumentException("'$decimal' is too large");
    $minor = (int) ($digits === '' ? '0' : $digits);
    return $m[1] === '-' ? -$minor : $minor;
}

/**
 * Checks a Standard Webhooks delivery (webhook-id, webhook-timestamp, webhook-signature):
 * an HMAC-SHA256 over "id.timestamp.body" with the secret's decoded bytes, compared in
 * constant time against each "v1,<base64>" signature, and a timestamp within the tolerance.
 */
function verify_webhook(string $secret, array $headers, string $body, int $toleranceSeconds = 300, ?int $now = null): bool
{
    $headers = array_change_key_case($headers, CASE_LOWER);
    $id = (string) ($headers['webhook-id'] ?? '');
    $timestamp = (string) ($headers['webhook-timestamp'] ?? '');
    $signatures = (string) ($headers['webhook-signature'] ?? '');
    if ($id === '' || !ctype_digit($timestamp) || $signatures === '') return false;
    if (abs(($now ?? time()) - (int) $timestamp) > $toleranceSeconds) return false;
    $key = base64_decode(str_starts_with($secret, 'whsec_') ? substr($secret, 6) : $secret, true);
    if ($key === false || $key === '') return false;
    $expected = base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $key, true));
    foreach (explode(' ', $signatures) as $signature) {
        [$version, $value] = array_pad(explode(',', $signature, 2), 2, '');
        if ($version === 'v1' && hash_equals($expected, $value)) return true;
    }
    return false;
}
