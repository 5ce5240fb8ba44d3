// A real MCP client for the tests: the official MCP TypeScript SDK (its Client over its
// StreamableHTTPClientTransport, pinned in package-lock.json) against slotd's POST /mcp.
//
//   node client.js BASE_URL BEARER_KEY SCENARIO_JSON
//
// SCENARIO_JSON is {"calls":[{"name","arguments"?}, ...]}. The client connects as any MCP
// client does (initialize with the SDK's latest protocol version, the SDK's own version
// negotiation, notifications/initialized), lists the tools, calls each tool of the scenario in
// order, pings, and prints one JSON document of everything it saw:
//
//   {"protocolVersion","sessionId","serverVersion","serverCapabilities","instructions",
//    "tools":[...] | "toolsError":{...},
//    "calls":[{"name","result":{...}} | {"name","error":{"kind","code","message"}}],
//    "ping":{} | "pingError":{...}}
//
// Exits 0 unless the SDK itself could not connect (then 1, the reason on stderr): a failed
// call is something the test looks at, not a failure of this script.
'use strict';
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');

function errorOf(e) {
    return {
        kind: e && e.constructor ? e.constructor.name : typeof e,
        code: e && e.code !== undefined ? e.code : null,
        message: e && e.message !== undefined ? String(e.message) : String(e),
    };
}

async function main() {
    const [base, key, scenarioText] = process.argv.slice(2);
    if (!base || !key || !scenarioText) {
        console.error('usage: client.js BASE_URL BEARER_KEY SCENARIO_JSON');
        process.exit(2);
    }
    const scenario = JSON.parse(scenarioText);
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', base), {
        requestInit: { headers: { Authorization: `Bearer ${key}` } },
    });
    const client = new Client({ name: 'slotd-tests', version: '1.0.0' });
    try {
        await client.connect(transport);
    } catch (e) {
        console.error(`connect: ${e && e.stack ? e.stack : e}`);
        process.exit(1);
    }
    const seen = {
        protocolVersion: transport.protocolVersion ?? null,
        sessionId: transport.sessionId ?? null,
        serverVersion: client.getServerVersion() ?? null,
        serverCapabilities: client.getServerCapabilities() ?? null,
        instructions: client.getInstructions() ?? null,
        calls: [],
    };
    try {
        seen.tools = (await client.listTools()).tools;
    } catch (e) {
        seen.toolsError = errorOf(e);
    }
    for (const call of scenario.calls || []) {
        try {
            const result = await client.callTool({ name: call.name, arguments: call.arguments || {} });
            seen.calls.push({ name: call.name, result });
        } catch (e) {
            seen.calls.push({ name: call.name, error: errorOf(e) });
        }
    }
    try {
        seen.ping = await client.ping();
    } catch (e) {
        seen.pingError = errorOf(e);
    }
    await client.close().catch(() => {});
    process.stdout.write(JSON.stringify(seen) + '\n');
}

main().catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
});
