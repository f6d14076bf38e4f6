'use strict';
// node-smpp as an SMSC: accepts binds, answers submit_sm with message ids, sends delivery
// receipts and mobile-originated messages, and records everything as JSON lines on stdout.
// Exits when stdin closes or on SIGTERM.
//
// usage: node server.js '<json config>'
//   host, port (0 picks a free one; the "listening" line tells which), system_id,
//   credentials ({system_id: password}; absent means any bind is accepted),
//   receipts ("requested" | "all" | "none"), receipt_stat ("DELIVRD", "UNDELIV", ...),
//   receipt_delay_ms, receipt_tlvs (send receipted_message_id / message_state, default true),
//   id_format ("dec" | "hex"), id_start,
//   mo_on_bind: [message] delivered to each receiver/transceiver once it binds,
//   tls: {cert_file, key_file} to accept SMPP over TLS only.
// stdin, one JSON object a line: {"op": "deliver", "messages": [message]} delivers to the
//   newest receiver/transceiver session; {"op": "unbind"} asks every session to unbind.
// message: {ref, source_addr, destination_addr, text, coding, mode} as in client.js.

const fs = require('fs');
const readline = require('readline');
const { smpp, emit, buildParts, messageFields, describePdu, receiptText, MESSAGE_STATES } =
	require('./common');

const config = JSON.parse(process.argv[2] || '{}');
const receipts = config.receipts || 'requested';
const receiptStat = config.receipt_stat || 'DELIVRD';
const receiptTlvs = config.receipt_tlvs === undefined ? true : config.receipt_tlvs;
let nextId = config.id_start || 1;
let nextReference = 1;
const receivers = [];

function newMessageId() {
	const n = nextId++;
	return config.id_format === 'hex' ? n.toString(16) : String(n);
}

function partText(pdu) {
	const message = pdu.message_payload || pdu.short_message;
	return message && typeof message.message === 'string' ? message.message : '';
}

function sendReceipt(session, submit, messageId) {
	const submitted = new Date();
	const fields = {
		source_addr_ton: submit.dest_addr_ton,
		source_addr_npi: submit.dest_addr_npi,
		source_addr: submit.destination_addr,
		dest_addr_ton: submit.source_addr_ton,
		dest_addr_npi: submit.source_addr_npi,
		destination_addr: submit.source_addr,
		esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
		data_coding: 0,
		short_message: { message: receiptText(messageId, receiptStat, submitted, partText(submit)) },
	};
	if (receiptTlvs) {
		fields.receipted_message_id = messageId;
		fields.message_state = MESSAGE_STATES[receiptStat];
	}
	session.deliver_sm(fields, function (resp) {
		emit('receipt_resp', { message_id: messageId, command_status: resp.command_status });
	});
	emit('receipt_sent', { message_id: messageId, stat: receiptStat });
}

function deliverMessages(session, messages) {
	let total = 0;
	messages.forEach(function (message, index) {
		const coding = message.coding || 'gsm';
		const reference = message.reference || nextReference++ % 256;
		const parts = buildParts(message.text, coding, message.mode || 'udh', reference);
		parts.forEach(function (part, partIndex) {
			const fields = Object.assign(
				{
					source_addr_ton: 1,
					source_addr_npi: 1,
					source_addr: message.source_addr || '15550001111',
					dest_addr_ton: 1,
					dest_addr_npi: 1,
					destination_addr: message.destination_addr || '15550000000',
					esm_class: 0,
				},
				messageFields(part, coding)
			);
			const ref = message.ref === undefined ? index : message.ref;
			session.deliver_sm(fields, function (resp) {
				emit('mo_resp', { ref: ref, part: partIndex + 1, command_status: resp.command_status });
			});
			emit('mo_sent', { ref: ref, part: partIndex + 1, parts: parts.length });
			total += 1;
		});
	});
	emit('mo_batch_sent', { messages: messages.length, parts: total });
}

function handleBind(session, pdu) {
	const mode = pdu.command.replace('bind_', '');
	let status = 0;
	if (config.credentials) {
		const expected = config.credentials[pdu.system_id];
		if (expected === undefined || expected !== pdu.password) status = smpp.ESME_RBINDFAIL;
	}
	emit('bind', Object.assign(describePdu(pdu), { mode: mode, status: status }));
	if (status !== 0) {
		session.send(pdu.response({ command_status: status }));
		session.close();
		return;
	}
	session.send(pdu.response({ system_id: config.system_id || 'nodesmsc' }));
	session.bound = mode;
	if (mode !== 'transmitter') {
		receivers.push(session);
		if (config.mo_on_bind && config.mo_on_bind.length) {
			setTimeout(function () {
				deliverMessages(session, config.mo_on_bind);
			}, 50);
		}
	}
}

const serverOptions = config.tls
	? { cert: fs.readFileSync(config.tls.cert_file), key: fs.readFileSync(config.tls.key_file) }
	: {};

const server = smpp.createServer(serverOptions, function (session) {
	session.on('error', function (error) {
		emit('session_error', { message: String(error) });
	});
	session.on('close', function () {
		const at = receivers.indexOf(session);
		if (at >= 0) receivers.splice(at, 1);
		emit('session_closed', {});
	});
	['bind_transceiver', 'bind_transmitter', 'bind_receiver'].forEach(function (command) {
		session.on(command, function (pdu) {
			handleBind(session, pdu);
		});
	});
	session.on('submit_sm', function (pdu) {
		if (!session.bound || session.bound === 'receiver') {
			session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
			return;
		}
		const messageId = newMessageId();
		emit('submit_sm', Object.assign(describePdu(pdu), { assigned_message_id: messageId }));
		session.send(pdu.response({ message_id: messageId }));
		const wanted = receipts === 'all' || (receipts === 'requested' && (pdu.registered_delivery & 0x03));
		if (wanted) {
			setTimeout(function () {
				sendReceipt(session, pdu, messageId);
			}, config.receipt_delay_ms || 0);
		}
	});
	session.on('enquire_link', function (pdu) {
		emit('enquire_link', {});
		session.send(pdu.response());
	});
	session.on('unbind', function (pdu) {
		emit('unbind', {});
		session.send(pdu.response());
		session.close();
	});
	session.on('unbind_resp', function () {
		emit('unbind_resp', {});
		session.close();
	});
	session.on('pdu', function (pdu) {
		if (pdu.command === 'unknown' || pdu.command === 'generic_nack') {
			emit('other_pdu', describePdu(pdu));
		}
	});
});

server.on('error', function (error) {
	emit('error', { message: String(error) });
	process.exit(2);
});

server.listen(config.port || 0, config.host || '127.0.0.1', function () {
	emit('listening', { port: server.address().port });
});

const input = readline.createInterface({ input: process.stdin });
input.on('line', function (line) {
	if (!line.trim()) return;
	const command = JSON.parse(line);
	if (command.op === 'deliver') {
		const session = receivers[receivers.length - 1];
		if (!session) {
			emit('deliver_failed', { reason: 'no receiver bound' });
			return;
		}
		deliverMessages(session, command.messages || []);
	} else if (command.op === 'unbind') {
		server.sessions.forEach(function (session) {
			session.unbind();
		});
	}
});
input.on('close', function () {
	process.exit(0);
});
process.on('SIGTERM', function () {
	process.exit(0);
});
