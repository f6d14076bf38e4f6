'use strict';
// node-smpp as an ESME: binds, submits the configured messages, answers deliver_sm, prints one
// JSON object per line on stdout, and exits by itself (status 0 done, 3 timed out, 2 error).
//
// usage: node client.js '<json config>'
//   host, port, system_id, password, system_type, bind ("transceiver" | "transmitter" | "receiver"),
//   messages: [{ref, source_addr, destination_addr, text, coding ("gsm" | "ucs2" | "latin1" | "ascii"),
//               mode ("single" | "udh" | "udh16" | "sar" | "payload"), registered_delivery}],
//   expect_deliver (deliver_sm to wait for after the submits), timeout_ms, linger_ms,
//   tls: {ca_file} to connect over TLS, verifying the server against that CA

const fs = require('fs');
const { smpp, emit, buildParts, messageFields, describePdu } = require('./common');

const config = JSON.parse(process.argv[2] || '{}');
const expectDeliver = config.expect_deliver || 0;
const lingerMs = config.linger_ms || 0;

let pendingResponses = 0;
let submitsSent = false;
let delivered = 0;
let finishing = false;

const timer = setTimeout(function () {
	emit('timeout', { pending_responses: pendingResponses, deliver_sm: delivered });
	process.exit(3);
}, config.timeout_ms || 15000);

const options = { host: config.host || '127.0.0.1', port: config.port };
if (config.tls) {
	options.tls = true;
	options.ca = [fs.readFileSync(config.tls.ca_file)];
	options.rejectUnauthorized = true;
}
const session = smpp.connect(options);

session.on('error', function (error) {
	if (finishing) return;
	emit('error', { message: String(error) });
	process.exit(2);
});

session.on('close', function () {
	if (finishing) return;
	emit('closed', { pending_responses: pendingResponses, deliver_sm: delivered });
	process.exit(2);
});

session.on('enquire_link', function (pdu) {
	session.send(pdu.response());
});

session.on('unbind', function (pdu) {
	emit('unbind', {});
	session.send(pdu.response());
});

session.on('deliver_sm', function (pdu) {
	delivered += 1;
	emit('deliver_sm', describePdu(pdu));
	session.send(pdu.response());
	maybeFinish();
});

function maybeFinish() {
	if (finishing || !submitsSent || pendingResponses > 0 || delivered < expectDeliver) return;
	finishing = true;
	setTimeout(function () {
		session.unbind({}, function (resp) {
			emit('unbind_resp', { command_status: resp.command_status });
			finish();
		});
		setTimeout(finish, 2000);
	}, lingerMs);
}

function finish() {
	clearTimeout(timer);
	emit('done', { deliver_sm: delivered });
	session.destroy();
	process.exit(0);
}

function submitAll() {
	const messages = config.messages || [];
	messages.forEach(function (message, index) {
		const coding = message.coding || 'gsm';
		const reference = message.reference || ((index + 1) * 37) % 256;
		const parts = buildParts(message.text, coding, message.mode || 'udh', reference);
		parts.forEach(function (part, partIndex) {
			const fields = Object.assign(
				{
					source_addr_ton: message.source_addr_ton === undefined ? 1 : message.source_addr_ton,
					source_addr_npi: 1,
					source_addr: message.source_addr || '15550000000',
					dest_addr_ton: 1,
					dest_addr_npi: 1,
					destination_addr: message.destination_addr,
					registered_delivery: message.registered_delivery || 0,
				},
				messageFields(part, coding)
			);
			pendingResponses += 1;
			session.submit_sm(fields, function (resp) {
				pendingResponses -= 1;
				emit('submit_sm_resp', {
					ref: message.ref === undefined ? index : message.ref,
					part: partIndex + 1,
					parts: parts.length,
					command_status: resp.command_status,
					message_id: resp.message_id === undefined ? null : resp.message_id,
				});
				maybeFinish();
			});
		});
	});
	submitsSent = true;
	maybeFinish();
}

session.on(config.tls ? 'secureConnect' : 'connect', function () {
	const command = 'bind_' + (config.bind || 'transceiver');
	session[command](
		{
			system_id: config.system_id || 'nodeclient',
			password: config.password || '',
			system_type: config.system_type || '',
			interface_version: 0x34,
		},
		function (pdu) {
			emit('bind_resp', { command_status: pdu.command_status, system_id: pdu.system_id || null });
			if (pdu.command_status !== 0) {
				finishing = true;
				clearTimeout(timer);
				session.destroy();
				process.exit(0);
			}
			submitAll();
		}
	);
});
