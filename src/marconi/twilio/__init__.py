"""The Twilio-compatible face: ``/2010-04-01`` and ``/v1/Services`` over the same services as
the native API (see docs/twilio.md).

Pieces other compatible endpoints reuse: :mod:`~marconi.twilio.auth` (HTTP Basic with an account
SID and auth token, or an ``SK`` key and its secret), :mod:`~marconi.twilio.errors` (the error
envelope and code mapping; :func:`~marconi.twilio.errors.register_code` adds codes),
:mod:`~marconi.twilio.route` (a route class that answers errors in that envelope),
:mod:`~marconi.twilio.form` (form bodies, unknown parameters ignored) and
:mod:`~marconi.twilio.paging` (both list envelopes).

The rest: :mod:`~marconi.twilio.router` mounts :mod:`~marconi.twilio.messages`,
:mod:`~marconi.twilio.accounts`, :mod:`~marconi.twilio.numbers` and
:mod:`~marconi.twilio.messaging`, whose answers :mod:`~marconi.twilio.shape` writes;
:mod:`~marconi.twilio.webhook` sends webhooks in Twilio's form and
:mod:`~marconi.twilio.twiml` reads the replies; :mod:`~marconi.twilio.magic` answers Twilio's
test numbers and :mod:`~marconi.twilio.codes` maps delivery errors.
"""
