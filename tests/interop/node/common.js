'use strict';
// Helpers shared by the node-smpp peer scripts: JSON-line output, splitting texts into
// concatenated parts, and recording the raw bytes node-smpp decoded.

const smpp = require('smpp');

// node-smpp decodes short_message / message_payload into {udh, message}; keep the raw octets
// too, so the test can check them with codecs that are not node-smpp's.
const originalDecode = smpp.filters.message.decode;
smpp.filters.message.decode = function (value, skipUdh) {
	const result = originalDecode.call(this, value, skipUdh);
	if (Buffer.isBuffer(value) && result && typeof result === 'object') {
		result.raw = value;
	}
	return result;
};

function emit(event, fields) {
	process.stdout.write(JSON.stringify(Object.assign({ event: event }, fields || {})) + '\n');
}

// GSM 03.38 extension-table characters cost two septets (escape + code).
const GSM_EXTENDED = new Set(['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€']);

function gsmSeptets(ch) {
	return GSM_EXTENDED.has(ch) ? 2 : 1;
}

function splitGsm(text, budget) {
	const parts = [];
	let current = '';
	let used = 0;
	for (const ch of text) {
		const cost = gsmSeptets(ch);
		if (used + cost > budget) {
			parts.push(current);
			current = '';
			used = 0;
		}
		current += ch;
		used += cost;
	}
	if (current) parts.push(current);
	return parts;
}

function splitUcs2(text, budget) {
	// budget in UTF-16 code units; iterating by code point keeps surrogate pairs together
	const parts = [];
	let current = '';
	for (const ch of text) {
		if (current.length + ch.length > budget) {
			parts.push(current);
			current = '';
		}
		current += ch;
	}
	if (current) parts.push(current);
	return parts;
}

function septetLength(text) {
	let n = 0;
	for (const ch of text) n += gsmSeptets(ch);
	return n;
}

const DATA_CODING = { gsm: 0x00, ascii: 0x01, latin1: 0x03, ucs2: 0x08 };

// Returns a list of {short_message, esm_class_udhi, sar?} objects for one text.
// mode: "single" (must fit), "udh" (8-bit reference), "udh16" (16-bit reference),
// "sar" (SAR TLVs), "payload" (message_payload TLV, one PDU).
function buildParts(text, coding, mode, reference) {
	const ucs2 = coding === 'ucs2';
	const fitsSingle = ucs2 ? text.length <= 70 : septetLength(text) <= 160;
	if (mode === 'payload') {
		return [{ payload: text }];
	}
	if (mode === 'single' || fitsSingle) {
		return [{ message: text }];
	}
	const udh16 = mode === 'udh16';
	const headerOctets = mode === 'sar' ? 0 : udh16 ? 7 : 6;
	const budget = ucs2 ? Math.floor((140 - headerOctets) / 2) : Math.floor(((140 - headerOctets) * 8) / 7);
	const chunks = ucs2 ? splitUcs2(text, budget) : splitGsm(text, budget);
	const total = chunks.length;
	return chunks.map(function (chunk, index) {
		const seq = index + 1;
		if (mode === 'sar') {
			return {
				message: chunk,
				sar: { sar_msg_ref_num: reference & 0xffff, sar_total_segments: total, sar_segment_seqnum: seq },
			};
		}
		const udh = udh16
			? Buffer.from([6, 0x08, 4, (reference >> 8) & 0xff, reference & 0xff, total, seq])
			: Buffer.from([5, 0x00, 3, reference & 0xff, total, seq]);
		return { message: chunk, udh: udh };
	});
}

function messageFields(part, coding) {
	const fields = { data_coding: DATA_CODING[coding] };
	if (part.payload !== undefined) {
		fields.short_message = Buffer.alloc(0);
		fields.message_payload = { message: part.payload };
	} else if (part.udh) {
		fields.short_message = { udh: part.udh, message: part.message };
	} else {
		fields.short_message = { message: part.message };
	}
	if (part.sar) Object.assign(fields, part.sar);
	return fields;
}

function describeMessage(value) {
	if (value === undefined || value === null) return null;
	if (Buffer.isBuffer(value)) return { raw_hex: value.toString('hex'), udh_hex: [], text: null };
	if (typeof value !== 'object') return { raw_hex: null, udh_hex: [], text: String(value) };
	return {
		raw_hex: value.raw ? value.raw.toString('hex') : null,
		udh_hex: (value.udh || []).map(function (u) {
			return Buffer.from(u).toString('hex');
		}),
		text: typeof value.message === 'string' ? value.message : null,
	};
}

function describePdu(pdu) {
	const out = {
		command: pdu.command,
		sequence_number: pdu.sequence_number,
		command_status: pdu.command_status,
	};
	const plain = [
		'service_type', 'source_addr_ton', 'source_addr_npi', 'source_addr', 'dest_addr_ton',
		'dest_addr_npi', 'destination_addr', 'esm_class', 'protocol_id', 'priority_flag',
		'registered_delivery', 'data_coding', 'message_id', 'receipted_message_id', 'message_state',
		'network_error_code', 'sar_msg_ref_num', 'sar_total_segments', 'sar_segment_seqnum',
		'system_id', 'password', 'system_type', 'interface_version', 'sc_interface_version',
	];
	for (const key of plain) {
		if (pdu[key] !== undefined) {
			out[key] = Buffer.isBuffer(pdu[key]) ? pdu[key].toString('hex') : pdu[key];
		}
	}
	if (pdu.short_message !== undefined) out.short_message = describeMessage(pdu.short_message);
	if (pdu.message_payload !== undefined) out.message_payload = describeMessage(pdu.message_payload);
	return out;
}

function pad2(n) {
	return ('0' + n).slice(-2);
}

function smppDate(d) {
	return (
		pad2(d.getUTCFullYear() % 100) + pad2(d.getUTCMonth() + 1) + pad2(d.getUTCDate()) +
		pad2(d.getUTCHours()) + pad2(d.getUTCMinutes())
	);
}

const MESSAGE_STATES = {
	ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8,
};

function receiptText(messageId, stat, submitted, text) {
	const now = new Date();
	const delivered = stat === 'DELIVRD' ? '001' : '000';
	return (
		'id:' + messageId + ' sub:001 dlvrd:' + delivered + ' submit date:' + smppDate(submitted) +
		' done date:' + smppDate(now) + ' stat:' + stat + ' err:000 text:' +
		text.slice(0, 20).replace(/[^A-Za-z0-9 .,!?:;'()+-]/g, '.')
	);
}

module.exports = {
	smpp: smpp,
	emit: emit,
	buildParts: buildParts,
	messageFields: messageFields,
	describePdu: describePdu,
	receiptText: receiptText,
	MESSAGE_STATES: MESSAGE_STATES,
	DATA_CODING: DATA_CODING,
};
