// Retell's official SDK (npm retell-sdk, pinned in package.json) as the reference for
// tests/agent/test_retell.c: what it signs and what it accepts, never re-implemented here.
//
//   node retell_sign.js <api_key> <body> [timestamp_ms]
//       prints the X-Retell-Signature the SDK makes for <body>: Retell.sign (now) without a
//       timestamp, else the SDK's symmetric.sign at that timestamp, proved by the SDK's own
//       verify at that instant before it is printed (exit 1 otherwise) unless the timestamp is
//       past Number.MAX_SAFE_INTEGER, which the SDK signs but never verifies.
//   node retell_sign.js --verify <json>
//       <json> is {"api_key","body","headers":[...],"now_ms"?}: prints a JSON array, for each
//       header whether the SDK's verify accepts it (Retell.verify on the real clock without
//       now_ms, else the same function with now_ms as its clock). A verify that throws (an
//       empty key: Web Crypto refuses a zero-length HMAC key) is false.
'use strict';
const { Retell } = require('retell-sdk');
const { symmetric } = require('retell-sdk/lib/webhook_auth');

async function accepts(body, apiKey, header, now) {
    try {
        return now === undefined
            ? await Retell.verify(body, apiKey, header)
            : await symmetric.verify(body, apiKey, header, { timestamp: now });
    } catch {
        return false;
    }
}

async function main(argv) {
    if (argv[0] === '--verify') {
        const q = JSON.parse(argv[1]);
        const answers = [];
        for (const header of q.headers) answers.push(await accepts(q.body, q.api_key, header, q.now_ms));
        process.stdout.write(JSON.stringify(answers) + '\n');
        return 0;
    }
    const [apiKey, body, stamp] = argv;
    if (apiKey === undefined || body === undefined) {
        process.stderr.write('usage: retell_sign.js <api_key> <body> [timestamp_ms] | --verify <json>\n');
        return 2;
    }
    if (stamp === undefined) {
        const header = await Retell.sign(body, apiKey);
        if (!(await Retell.verify(body, apiKey, header))) return 1;
        process.stdout.write(header + '\n');
        return 0;
    }
    const at = Number(stamp);
    const header = await symmetric.sign(body, apiKey, at);
    if (Number.isSafeInteger(at) && !(await accepts(body, apiKey, header, at))) return 1;
    process.stdout.write(header + '\n');
    return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
    process.exit(1);
});
