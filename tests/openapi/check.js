#!/usr/bin/env node
/*
 * The OpenAPI check: src/http/openapi.yaml must be a valid OpenAPI 3.0
 * document, and every response the black-box tests received (one JSON line
 * each in the log that tests/http/api_client.c writes) must match it.
 *
 *   node check.js OPENAPI_YAML RESPONSE_LOG
 *
 * The document is validated and dereferenced by @apidevtools/swagger-parser;
 * each schema is turned into JSON Schema (nullable and the OpenAPI-only
 * keywords) by @openapi-contrib/openapi-schema-to-json-schema and checked by
 * Ajv with its formats (uuid, date, date-time), all pinned in package-lock.json.
 *
 * A logged request path is matched to its template literal segments first
 * (/v1/resources/{id}/blocks before /v1/resources/{id}/{x}); its status must be
 * listed for that method, its Content-Type must be one the document names for
 * that status (or none when it names none), and its body must match the
 * schema. A path the document does not know must answer 404, and a method a
 * path does not serve 405, both with the error envelope. Exits 1 on any
 * mismatch, listing each one.
 */
'use strict';
const fs = require('fs');
const SwaggerParser = require('@apidevtools/swagger-parser');
const { openapiSchemaToJsonSchema } = require('@openapi-contrib/openapi-schema-to-json-schema');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function templates(doc) {
    /* a segment "{id}" is any segment; "{id}.ics" one ending in ".ics", which makes it more
     * specific than "{id}" (it counts as a literal) */
    const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const list = Object.keys(doc.paths).map((template) => {
        const segments = template.split('/');
        const regex = new RegExp('^' + segments.map((s) => {
            const param = /^\{[^}]*\}(.*)$/.exec(s);
            return param ? '[^/]+' + escape(param[1]) : escape(s);
        }).join('/') + '$');
        const literals = segments.filter((s) => !/^\{[^}]*\}$/.test(s)).length;
        return { template, regex, literals };
    });
    return list.sort((a, b) => b.literals - a.literals);
}

function mediaType(contentType) {
    return (contentType || '').split(';')[0].trim().toLowerCase();
}

async function main() {
    const [docPath, logPath] = process.argv.slice(2);
    if (!docPath || !logPath) {
        console.error('usage: check.js OPENAPI_YAML RESPONSE_LOG');
        process.exit(2);
    }
    /* validate() checks the document against the OpenAPI 3.0 schema and resolves every $ref. */
    const doc = await SwaggerParser.validate(docPath);
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const compiled = new Map();
    const validatorFor = (schema) => {
        if (!compiled.has(schema)) {
            const json = openapiSchemaToJsonSchema(schema);
            delete json.$schema; /* draft-04 named, but the keywords used read the same in Ajv's */
            compiled.set(schema, ajv.compile(json));
        }
        return compiled.get(schema);
    };
    const errorSchema = doc.components.schemas.Error;
    const paths = templates(doc);

    const lines = fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8').split('\n') : [];
    const failures = [];
    const covered = new Set();
    let checked = 0;
    for (const line of lines) {
        if (!line.trim())
            continue;
        const r = JSON.parse(line);
        checked++;
        const where = `${r.method} ${r.path} -> ${r.status}`;
        const fail = (why) => failures.push(`${where}: ${why}\n    body: ${r.body.slice(0, 400)}`);
        const pathOnly = r.path.split('?')[0];
        const match = paths.find((p) => p.regex.test(pathOnly));
        let response;
        if (!match) {
            if (r.status !== 404)
                fail('a path the document does not list must answer 404');
            response = { content: { 'application/json': { schema: errorSchema } } };
        } else {
            const operation = doc.paths[match.template][r.method.toLowerCase()];
            if (!operation || !METHODS.includes(r.method.toLowerCase())) {
                if (r.status !== 405)
                    fail(`${match.template} does not serve ${r.method}: expected 405`);
                response = { content: { 'application/json': { schema: errorSchema } } };
            } else {
                response = operation.responses[String(r.status)] || operation.responses.default;
                covered.add(`${r.method} ${match.template} ${r.status}`);
                if (!response) {
                    fail(`status ${r.status} is not documented for ${r.method} ${match.template}`);
                    continue;
                }
            }
        }
        const content = response.content || {};
        const types = Object.keys(content);
        const type = mediaType(r.content_type);
        if (types.length === 0) {
            if (r.body.length > 0)
                fail('the document names no content for this response, yet it has a body');
            continue;
        }
        if (!types.includes(type)) {
            fail(`Content-Type ${r.content_type || '(none)'} is not one of ${types.join(', ')}`);
            continue;
        }
        const schema = content[type].schema;
        if (!schema) {
            fail(`no schema for ${type}`);
            continue;
        }
        let body = r.body;
        if (type === 'application/json') {
            try {
                body = JSON.parse(r.body);
            } catch (e) {
                fail(`the body is not JSON: ${e.message}`);
                continue;
            }
        }
        const validate = validatorFor(schema);
        if (!validate(body))
            fail(ajv.errorsText(validate.errors, { separator: '; ' }));
    }
    if (checked === 0) {
        /* A run by hand after non-HTTP tests has nothing to check; the test
         * command (which runs every test) sets SLOTD_OPENAPI_REQUIRE_RESPONSES so
         * that a log left empty by a broken client cannot pass unnoticed. */
        if (process.env.SLOTD_OPENAPI_REQUIRE_RESPONSES) {
            console.error(`openapi check: no response logged in ${logPath}: the HTTP tests did not log (SLOTD_API_LOG)`);
            process.exit(1);
        }
        console.log('openapi check: the document is valid; no HTTP test ran, so no response to check');
        return;
    }
    if (failures.length) {
        console.error(`openapi check: ${failures.length} of ${checked} responses do not match ${docPath}:`);
        for (const f of failures)
            console.error('  ' + f);
        console.log(`openapi: ${checked - failures.length} passed, ${failures.length} failed`);
        process.exit(1);
    }
    console.log(`openapi check: the document is valid; ${checked} responses match it ` +
                `(${covered.size} method/path/status combinations)`);
    console.log(`openapi: ${checked} passed, 0 failed`);
}

main().catch((e) => {
    console.error(`openapi check: ${e.message}`);
    process.exit(1);
});
