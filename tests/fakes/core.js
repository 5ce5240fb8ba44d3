'use strict';
/*
 * The fake's shared machinery: its state (one object, saved to the state file
 * after every change and read back at start), OAuth grants and access tokens,
 * the request record, injected failures, page snapshots, ICS feeds, and
 * deliveries to the client's webhook endpoints.
 */
const crypto = require('crypto');
const fs = require('fs');
const { Calendar } = require('./calendar.js');

const DEFAULT_CONFIG = {
    google_page_size: null, /* caps maxResults; null: Google's own 250 default and 2500 limit */
    microsoft_page_size: null, /* caps Prefer: odata.maxpagesize; the default page is 10 */
    calcom_page_size: null, /* caps take */
    google_access_token_ttl_seconds: 3599,
    microsoft_access_token_ttl_seconds: 3599,
    microsoft_old_refresh_token_valid: true, /* Graph docs: the old one is not revoked on use */
    microsoft_delta_expiry: '410', /* '410' (with Location) or 'syncStateNotFound' (400) */
    recurrence_horizon_days: 730,
    delivery_timeout_ms: 10000,
    max_requests_recorded: 100000,
};

function freshState() {
    return {
        rev: 0,
        seq: 0,
        config: { ...DEFAULT_CONFIG },
        grants: [], /* {provider, refresh_token, family, user, client_id, client_secret, scope, revoked} */
        accessTokens: [], /* {provider, token, family, user, expiresAt} */
        google: { calendars: new Map(), syncTokens: new Map(), channels: [] },
        microsoft: { calendars: new Map(), deltaTokens: new Map(), subscriptions: [] },
        calcom: { users: [], eventTypes: [], bookings: [], webhooks: [], nextId: 1 },
    };
}

function serialize(state) {
    const mapOut = (m) => [...m.values()];
    return JSON.stringify({
        ...state,
        google: { ...state.google, calendars: mapOut(state.google.calendars), syncTokens: [...state.google.syncTokens] },
        microsoft: { ...state.microsoft, calendars: mapOut(state.microsoft.calendars), deltaTokens: [...state.microsoft.deltaTokens] },
    });
}

function deserialize(text) {
    const raw = JSON.parse(text);
    const state = freshState();
    Object.assign(state, raw);
    state.config = { ...DEFAULT_CONFIG, ...(raw.config || {}) };
    const cals = (list) => new Map((list || []).map((c) => [c.id, new Calendar(c)]));
    state.google = { ...raw.google, calendars: cals(raw.google.calendars), syncTokens: new Map(raw.google.syncTokens) };
    state.microsoft = { ...raw.microsoft, calendars: cals(raw.microsoft.calendars), deltaTokens: new Map(raw.microsoft.deltaTokens) };
    return state;
}

function randomToken(prefix, bytes = 18) {
    return prefix + crypto.randomBytes(bytes).toString('base64url');
}

class Fake {
    constructor({ stateFile }) {
        this.stateFile = stateFile || null;
        this.state = freshState();
        if (this.stateFile && fs.existsSync(this.stateFile)) this.state = deserialize(fs.readFileSync(this.stateFile, 'utf8'));
        this.requests = [];
        this.inFlight = {};
        this.deliveries = [];
        this.failures = [];
        this.pages = new Map(); /* page and skip tokens: snapshots of a list, not saved */
        this.icsFeeds = new Map(); /* name -> ICS feed (ics.js), not saved */
        this.dirty = false;
        this.pendingNotifications = new Map();
        this.port = 0;
    }

    get config() {
        return this.state.config;
    }

    now() {
        return Date.now();
    }

    /** The next revision; marks the state changed. */
    nextRev() {
        this.dirty = true;
        return ++this.state.rev;
    }

    changed() {
        this.dirty = true;
    }

    save() {
        if (!this.dirty) return;
        this.dirty = false;
        if (!this.stateFile) return;
        const tmp = `${this.stateFile}.tmp`;
        fs.writeFileSync(tmp, serialize(this.state));
        fs.renameSync(tmp, this.stateFile);
    }

    reset() {
        this.state = freshState();
        this.requests = [];
        this.deliveries = [];
        this.failures = [];
        this.pages.clear();
        this.icsFeeds.clear();
        this.dirty = true;
    }

    /* ---- OAuth ---- */

    /** Creates a grant (a refresh token a user gave an app). */
    addGrant(provider, fields) {
        const refresh = fields.refresh_token || randomToken(provider === 'google' ? '1//fake-' : 'M.fake-');
        if (this.state.grants.some((g) => g.refresh_token === refresh)) throw new Error(`refresh token ${refresh} exists`);
        const grant = {
            provider, refresh_token: refresh, family: randomToken('family-', 9),
            user: fields.user || `user-${this.state.grants.length + 1}@${provider === 'google' ? 'gmail.test' : 'outlook.test'}`,
            client_id: fields.client_id || null, client_secret: fields.client_secret || null,
            scope: fields.scope || null, revoked: false, rotated: false,
        };
        this.state.grants.push(grant);
        this.changed();
        return grant;
    }

    grant(provider, refresh) {
        return this.state.grants.find((g) => g.provider === provider && g.refresh_token === refresh) || null;
    }

    familyRevoked(family) {
        return this.state.grants.some((g) => g.family === family && g.revoked);
    }

    /** Revokes every grant of a provider matching the refresh token or the user (its whole rotation family). */
    revoke(provider, { refresh_token, user }) {
        const families = new Set(this.state.grants
            .filter((g) => (!provider || g.provider === provider) && ((refresh_token && g.refresh_token === refresh_token) || (user && g.user === user)))
            .map((g) => g.family));
        let n = 0;
        for (const g of this.state.grants) if (families.has(g.family)) { g.revoked = true; n++; }
        this.changed();
        return n;
    }

    issueAccessToken(grant, ttlSeconds) {
        const token = randomToken(grant.provider === 'google' ? 'ya29.fake-' : 'eyJ0eXAiOiJKV1QifQ.fake-', 24);
        this.state.accessTokens = this.state.accessTokens.filter((t) => t.expiresAt > this.now());
        this.state.accessTokens.push({ provider: grant.provider, token, family: grant.family, user: grant.user, expiresAt: this.now() + ttlSeconds * 1000 });
        this.changed();
        return token;
    }

    /** The user a request's bearer token stands for: {user} or {error: 'missing'|'invalid'|'expired'}. */
    bearer(provider, headers) {
        const h = headers.authorization;
        if (!h) return { error: 'missing' };
        const m = /^Bearer\s+(\S+)$/i.exec(h);
        if (!m) return { error: 'invalid' };
        const t = this.state.accessTokens.find((x) => x.token === m[1] && x.provider === provider);
        if (!t || this.familyRevoked(t.family)) return { error: 'invalid' };
        if (t.expiresAt <= this.now()) return { error: 'expired' };
        return { user: t.user };
    }

    expireAccessTokens(provider) {
        let n = 0;
        for (const t of this.state.accessTokens) {
            if (!provider || t.provider === provider) { t.expiresAt = Math.min(t.expiresAt, this.now() - 1); n++; }
        }
        this.changed();
        return n;
    }

    /* ---- pages ---- */

    /**
     * Keeps the rest of a list for a page token; returns the token. A token can be
     * used again (a client retrying a page gets the same page); the oldest are
     * forgotten past 10,000.
     */
    keepPage(snapshot) {
        const token = randomToken('', 15);
        if (this.pages.size > 10000) this.pages.delete(this.pages.keys().next().value);
        this.pages.set(token, snapshot);
        return token;
    }

    /* ---- record ---- */

    record(entry) {
        entry.seq = ++this.state.seq;
        this.requests.push(entry);
        const max = this.config.max_requests_recorded;
        if (this.requests.length > max) this.requests.splice(0, this.requests.length - max);
        return entry;
    }

    /* ---- injected failures ---- */

    addFailure(rule) {
        const f = {
            id: this.failures.length + 1,
            provider: rule.provider || null,
            method: rule.method ? String(rule.method).toUpperCase() : null,
            path: rule.path || null, /* a prefix of the request path */
            path_regex: rule.path_regex || null,
            count: rule.count === undefined ? 1 : rule.count,
            status: rule.status || null,
            reason: rule.reason || null,
            retry_after: rule.retry_after === undefined ? null : rule.retry_after,
            delay_ms: rule.delay_ms || 0,
            drop: rule.drop || null, /* 'reset' closes the connection, 'hang' never answers */
            raw_body: rule.raw_body === undefined ? null : rule.raw_body,
            body_bytes: rule.body_bytes || 0,
            content_type: rule.content_type || null,
            headers: rule.headers || {},
            used: 0,
        };
        if (f.path_regex) new RegExp(f.path_regex); /* throws on a bad pattern */
        if (!f.status && !f.drop && f.raw_body === null && !f.body_bytes && !f.delay_ms) throw new Error('a failure needs status, drop, raw_body, body_bytes or delay_ms');
        this.failures.push(f);
        return f;
    }

    takeFailure(provider, method, path) {
        for (const f of this.failures) {
            if (f.count !== null && f.used >= f.count) continue;
            if (f.provider && f.provider !== provider) continue;
            if (f.method && f.method !== method) continue;
            if (f.path && !path.startsWith(f.path)) continue;
            if (f.path_regex && !new RegExp(f.path_regex).test(path)) continue;
            f.used++;
            return f;
        }
        return null;
    }

    /* ---- deliveries to the client ---- */

    /**
     * POSTs to a webhook endpoint of the client and records the attempt and the
     * answer. Resolves to the record ({status, response_body} or {error}); never rejects.
     */
    async deliver({ provider, kind, url, headers, body }) {
        const entry = { seq: ++this.state.seq, time: new Date(this.now()).toISOString(), provider, kind, url, headers, body, status: null, response_body: null, error: null };
        this.deliveries.push(entry);
        if (this.deliveries.length > 10000) this.deliveries.shift();
        try {
            const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.config.delivery_timeout_ms) });
            entry.status = res.status;
            entry.response_headers = Object.fromEntries(res.headers);
            entry.response_body = await res.text();
        } catch (e) {
            entry.error = String(e && e.message ? e.message : e);
        }
        return entry;
    }

    /** Runs `fn` once after the current turn for `key`, however often it is asked for in this turn. */
    coalesce(key, fn) {
        if (this.pendingNotifications.has(key)) return;
        this.pendingNotifications.set(key, true);
        setImmediate(() => {
            this.pendingNotifications.delete(key);
            fn();
        });
    }
}

module.exports = { Fake, DEFAULT_CONFIG, randomToken, serializeState: serialize };
