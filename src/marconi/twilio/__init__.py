"""The Twilio-compatible face: ``/2010-04-01`` over the same services as the native API.

Pieces other compatible endpoints reuse: :mod:`~marconi.twilio.auth` (HTTP Basic with an account
SID and auth token, or an ``SK`` key and its secret), :mod:`~marconi.twilio.errors` (the error
envelope and code mapping), :mod:`~marconi.twilio.route` (a route class that answers errors in
that envelope), :mod:`~marconi.twilio.form` (form bodies, unknown parameters ignored) and
:mod:`~marconi.twilio.paging` (the list envelope).
"""
