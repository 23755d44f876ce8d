#!/usr/bin/env node
// An independent strict CSMS for ocppkit's end-to-end tests, built on the npm package
// ocpp-rpc in strictMode (its bundled official OCPP 1.6 / 2.0.1 JSON schemas, checked
// with ajv + ajv-formats). It shares no code with ocppkit: a second opinion on every frame.
//
//   node csms.js [--port N] [--protocols ocpp2.0.1,ocpp1.6] [--call-timeout SECONDS]
//                [--answer-delay SECONDS]   (a slow CSMS: each answer is held that long)
//
// stdout: one JSON object per line. The first is {"event":"listening","port":N}; then
//   connect / disconnect / refused    a station's WebSocket life
//   call                              every CALL a station sent (before validation)
//   violation                         a frame that failed strict validation (either way)
//   bad_message                       a frame that is not OCPP-J at all (or an unknown id)
//   unhandled                         a schema-valid CALL this CSMS has no answer for
//   answer                            the outcome of a command asked for on stdin
// stdin: one command per line, {"id": any, "station": "...", "action": "...",
//   "payload": {...}}; the CSMS sends it as a CALL and prints
//   {"event":"answer","id":...,"result":{...}} or {"event":"answer","id":...,"error":{...}}.
// Closing stdin (or SIGTERM) shuts the server down and exits 0.
'use strict';

const readline = require('node:readline');
const { setTimeout: sleep } = require('node:timers/promises');
const { RPCServer, createRPCError } = require('ocpp-rpc');

function emit(event, fields) {
    process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

function options(argv) {
    const out = { port: 0, protocols: ['ocpp2.0.1'], callTimeoutMs: 30000, answerDelayMs: 0 };
    for (let i = 0; i < argv.length; i += 2) {
        const [flag, value] = [argv[i], argv[i + 1]];
        if (flag === '--port') out.port = Number(value);
        else if (flag === '--protocols') out.protocols = value.split(',').filter(Boolean);
        else if (flag === '--call-timeout') out.callTimeoutMs = Number(value) * 1000;
        else if (flag === '--answer-delay') out.answerDelayMs = Number(value) * 1000;
        else throw new Error(`unknown option ${flag}`);
    }
    return out;
}

const now = () => new Date().toISOString();
const accepted = { status: 'Accepted' };

// Answers to station-initiated calls, per subprotocol: schema-valid by construction,
// and checked again by ocpp-rpc on the way out (an invalid one is a 'violation' too).
const ANSWERS = {
    'ocpp2.0.1': {
        BootNotification: () => ({ currentTime: now(), interval: 300, status: 'Accepted' }),
        Heartbeat: () => ({ currentTime: now() }),
        StatusNotification: () => ({}),
        Authorize: () => ({ idTokenInfo: accepted }),
        // 2.0.1 E01-E07: idTokenInfo only when the event carries an idToken.
        TransactionEvent: (p) => (p.idToken ? { idTokenInfo: accepted } : {}),
        MeterValues: () => ({}),
        NotifyEvent: () => ({}),
        NotifyReport: () => ({}),
        NotifyMonitoringReport: () => ({}),
        NotifyChargingLimit: () => ({}),
        ClearedChargingLimit: () => ({}),
        ReportChargingProfiles: () => ({}),
        LogStatusNotification: () => ({}),
        FirmwareStatusNotification: () => ({}),
        SecurityEventNotification: () => ({}),
        NotifyCustomerInformation: () => ({}),
        NotifyDisplayMessages: () => ({}),
        NotifyEVChargingNeeds: () => accepted,
        NotifyEVChargingSchedule: () => accepted,
        DataTransfer: () => ({ status: 'UnknownVendorId' }),
    },
    'ocpp1.6': {
        BootNotification: () => ({ currentTime: now(), interval: 300, status: 'Accepted' }),
        Heartbeat: () => ({ currentTime: now() }),
        StatusNotification: () => ({}),
        Authorize: () => ({ idTagInfo: accepted }),
        StartTransaction: () => ({ transactionId: nextTransactionId++, idTagInfo: accepted }),
        StopTransaction: () => ({}),
        MeterValues: () => ({}),
        DiagnosticsStatusNotification: () => ({}),
        FirmwareStatusNotification: () => ({}),
        DataTransfer: () => ({ status: 'UnknownVendorId' }),
    },
};
let nextTransactionId = 1;

function describe(error) {
    return { code: error.rpcErrorCode || error.name, message: String(error.message || error) };
}

function watch(client, answerDelayMs) {
    const station = client.identity;
    const protocol = client.protocol;
    emit('connect', { station, protocol, remote: client.handshake.remoteAddress });

    // Every CALL received, before strict validation sees it. Overlapping calls from one
    // station break OCPP-J 4.1.1 (one outstanding CALL per direction): flag them.
    let outstanding = 0;
    client.on('call', ({ outbound, payload }) => {
        if (outbound) return;
        const [, messageId, action, params] = payload;
        emit('call', { station, protocol, messageId, action, params, outstanding });
        outstanding += 1;
    });
    client.on('response', ({ outbound }) => {
        if (outbound) outstanding = Math.max(0, outstanding - 1);
    });

    // ocpp-rpc's own report of a schema failure, in all four directions: inbound CALL
    // (then answered with a CALLERROR), outbound answer (replaced by InternalError),
    // outbound CALL (never sent), inbound CALLRESULT (the command rejects).
    client.on('strictValidationFailure', (e) => {
        emit('violation', {
            station, protocol, messageId: e.messageId, action: e.method,
            direction: e.outbound ? 'csms->station' : 'station->csms',
            frame: e.isCall ? 'call' : 'result',
            error: describe(e.error), errors: e.error.details?.errors,
            payload: e.isCall ? e.params : e.result,
        });
    });
    client.on('badMessage', ({ buffer, error, response }) => {
        emit('bad_message', { station, protocol, raw: buffer.toString('utf8').slice(0, 2000),
                              error: describe(error), answered: response });
    });
    client.on('disconnect', ({ code, reason }) => {
        emit('disconnect', { station, code, reason: String(reason ?? '') });
    });

    client.handle(async ({ method, params }) => {
        const answer = ANSWERS[protocol]?.[method];
        if (answerDelayMs > 0) await sleep(answerDelayMs);
        if (!answer) {
            emit('unhandled', { station, protocol, action: method });
            throw createRPCError('NotImplemented', `this test CSMS does not answer ${method}`);
        }
        return answer(params);
    });
}

async function command(server, line) {
    let request;
    try {
        request = JSON.parse(line);
    } catch (error) {
        emit('answer', { id: null, error: { code: 'BadCommand', message: error.message } });
        return;
    }
    const { id, station, action, payload } = request;
    const client = [...server._clients].find((c) => c.identity === station);
    if (!client) {
        emit('answer', { id, station, action,
                         error: { code: 'NotConnected', message: `no station ${station}` } });
        return;
    }
    try {
        const result = await client.call(action, payload);
        emit('answer', { id, station, action, result });
    } catch (error) {
        emit('answer', { id, station, action, error: { ...describe(error),
                                                       details: error.details } });
    }
}

async function main() {
    const opts = options(process.argv.slice(2));
    const server = new RPCServer({
        protocols: opts.protocols,
        strictMode: true,
        callTimeoutMs: opts.callTimeoutMs,
        respondWithDetailedErrors: false,
    });
    // Without this, a station offering none of our subprotocols would be accepted with no
    // subprotocol at all, and strict mode would silently not apply to it.
    server.auth((accept, reject, handshake) => {
        const chosen = opts.protocols.find((p) => handshake.protocols.has(p));
        if (!chosen) {
            emit('refused', { station: handshake.identity, offered: [...handshake.protocols] });
            reject(400, 'no supported OCPP subprotocol offered');
            return;
        }
        accept({}, chosen);
    });
    server.on('client', (client) => watch(client, opts.answerDelayMs));
    server.on('error', (error) => emit('bad_message', { error: describe(error) }));

    const http = await server.listen(opts.port, '127.0.0.1');
    emit('listening', { port: http.address().port, protocols: opts.protocols });

    let closing = false;
    const shutdown = async () => {
        if (closing) return;
        closing = true;
        await server.close({ force: true });
        process.exit(0);
    };
    process.on('SIGTERM', shutdown);
    const lines = readline.createInterface({ input: process.stdin });
    lines.on('line', (line) => line.trim() && command(server, line));
    lines.on('close', shutdown);
}

main().catch((error) => {
    emit('fatal', { error: String(error && error.stack) });
    process.exit(2);
});
